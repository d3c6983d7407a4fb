import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Cluster, Redis } from "ioredis";
import { clampTimerMs, MAX_TIMER_MS, systemClock, type Clock, type TimerHandle } from "../../core/clock.js";
import { GatewayError } from "../../core/errors.js";
import { moduleLogger, type Logger } from "../../core/logger.js";
import type { TrustConfig } from "./options.js";
import { parseRootKey, TrustKeyError } from "./keys.js";
import { deltaCarried, mergeRidMaps, RevocationSet } from "./revocations.js";
import { DeltaRefused, verifyRevocationDelta, type RevocationSigner, type VerifiedDelta } from "./signed-delta.js";
import { createRedisCache, type SharedCache } from "./shared-cache.js";
import { DEFAULT_MAX_LIST_BYTES } from "./signed-list.js";
import type { SourceEnv, TrustSource } from "./sources/base.js";
import { CertSource } from "./sources/cert-source.js";
import { DeltaCopy, type StoredDelta } from "./sources/delta-copy.js";
import { SourceError } from "./sources/errors.js";
import { defaultJwksUrl, JwksSource } from "./sources/jwks-source.js";
import { RevocationSource } from "./sources/revocation-source.js";
import { SignedListSource } from "./sources/signed-list-source.js";
import type { TrustStatus, TrustView } from "./types.js";
import { buildView } from "./view.js";
import { assessClock, laterBound, type ClockEvidence, type TimeObservation } from "./clock-check.js";

export interface TrustStoreOptions {
  config: TrustConfig;
  stateDir: string;
  clock?: Clock;
  logger: Logger;
  redis?: Redis | Cluster;
  /** Key prefix in the shared Redis (default `cpgw:trust:`); tests use a random one. */
  redisPrefix?: string;
  fetch?: typeof fetch;
  /** Jitter source for retry delays; tests pass a constant. */
  random?: () => number;
}

export type TrustEvent = "updated" | "stale" | "error";

export interface TrustStore {
  /** The current immutable snapshot. Hold it for one verification; it is swapped, never mutated. */
  view(): TrustView;
  start(): Promise<void>;
  refreshNow(): Promise<TrustStatus>;
  status(): TrustStatus;
  stop(): Promise<void>;
  on(event: TrustEvent, fn: (...a: unknown[]) => void): void;
  /**
   * Site-wide revocation change, signed (signRevocationDelta) by a key the signed trust list names in
   * `revocationSigners`: applied here at once and published to the other gateways via Redis.
   * Throws DeltaRefused (nothing applied or shared, counted) when it is unsigned, wrongly signed or malformed.
   */
  publishRevocations(signedDelta: string): Promise<{ shared: boolean }>;
  /** Counters for metrics (monotonic since start). */
  stats(): TrustStoreStats;
}

export interface TrustStoreStats {
  /** Signed revocation deltas currently applied. */
  revocationDeltasApplied: number;
  /** Revocation deltas refused (unsigned, signer not named by the list, bad signature, malformed), each counted once. */
  revocationDeltasRefused: number;
  /** Trust copies from disk or Redis refused (bad signature, rollback, time in the future). */
  cacheCopiesRefused: number;
}

/** setTimeout takes a signed 32-bit delay: anything longer fires at once (a spinning 1 ms timer). One clamp for all stages. */
export { MAX_TIMER_MS };
/** Bounds on what a Redis writer can make every gateway hold: one delta's size, refusals remembered. */
const MAX_DELTA_CHARS = 8 * 1024 * 1024;
const MAX_REFUSED_TRACKED = 100_000;

const RETRY_BASE_MS = 30_000;

export async function createTrustStore(opts: TrustStoreOptions): Promise<TrustStore> {
  const clock = opts.clock ?? systemClock;
  const log = moduleLogger(opts.logger, "trust");
  const cfg = opts.config;
  const random = opts.random ?? Math.random;
  const shared: SharedCache | undefined = opts.redis
    ? createRedisCache({ redis: opts.redis, prefix: opts.redisPrefix ?? "cpgw:trust:", logger: log })
    : undefined;
  const env: SourceEnv = {
    clock,
    logger: log,
    fetch: opts.fetch ?? fetch,
    stateDir: opts.stateDir,
    timeoutMs: (cfg.fetchTimeoutS ?? 30) * 1000,
    maxBytes: cfg.maxListBytes ?? DEFAULT_MAX_LIST_BYTES,
    refreshIntervalMs: cfg.refreshIntervalS * 1000,
    ...(shared ? { shared } : {}),
  };

  const sources: TrustSource[] = [];
  for (const l of cfg.lists) {
    let root;
    try {
      root = parseRootKey(await readFile(l.rootKey, "utf8"));
    } catch (e) {
      const why = e instanceof TrustKeyError ? e.message : `cannot read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
      throw new GatewayError("GW_CONFIG_INVALID", `trust.lists: root key ${l.rootKey}: ${why}`);
    }
    sources.push(new SignedListSource(l.source, root, env));
  }
  for (const c of cfg.certificates) sources.push(new CertSource(c, env));
  for (const j of cfg.jwks) sources.push(new JwksSource(j.issuer, j.source ?? defaultJwksUrl(j.issuer), env, j.allowInsecureHttp === true));
  for (const r of cfg.revocations) sources.push(typeof r === "string" ? new RevocationSource(r, env, false, cfg.denyListMaxDropPct) : new RevocationSource(r.source, env, r.allowInsecureHttp === true, cfg.denyListMaxDropPct));

  const listeners = new Map<TrustEvent, Array<(...a: unknown[]) => void>>();
  const emit = (ev: TrustEvent, ...a: unknown[]) => {
    for (const fn of listeners.get(ev) ?? []) {
      try {
        fn(...a);
      } catch (e) {
        log.error({ err: (e as Error).message, event: ev }, "trust event listener threw");
      }
    }
  };

  // Accepted revocation deltas (stream entries and our own publishes), keyed by their signed text so a
  // re-appended copy counts once. Refused entries are not kept (a Redis writer could flood the stream):
  // they are counted once by digest, and when the list's signers change the whole stream is read again
  // under the new signers, so an entry that arrived before its signer was named is not lost.
  const accepted = new Map<string, VerifiedDelta & { id: string }>();
  // Accepted deltas are also kept on disk (the stream is not durable) and read back at start; what
  // is read is only a candidate, admitted like a stream entry whenever the signers are (re)known.
  const deltaCopy = new DeltaCopy(opts.stateDir);
  let diskDeltas: StoredDelta[] = [];
  let deltaCopyRefused = 0;
  let savedDeltas: string | undefined;
  /** The copy on disk could not be read (an I/O error, not a damaged file): never overwrite it, read it again before the next save. */
  let deltaCopyUnread = false;
  let saving: Promise<void> = Promise.resolve();
  const refusedDigests = new Set<string>();
  let refusedOverflow = 0;
  let overlay = RevocationSet.empty;
  let signersKey: string | undefined;
  let streamPos = "0";
  let clockWasUntrusted = false;
  let wasStale = false;
  let failures = 0;
  let stopped = false;
  let refreshTimer: TimerHandle | undefined;
  let staleTimer: TimerHandle | undefined;
  let inflight: Promise<TrustStatus> | undefined;
  let abort = new AbortController();

  /** The newest Date header and the latest signed time any source has seen (clock-check.ts). */
  function clockEvidence(): ClockEvidence {
    let server: TimeObservation | undefined;
    let signed: TimeObservation | undefined;
    for (const s of sources) {
      if (s.serverTime && (!server || s.serverTime.monoMs >= server.monoMs)) server = s.serverTime;
      signed = laterBound(signed, s.signedTime);
    }
    return { ...(server ? { server } : {}), ...(signed ? { signed } : {}) };
  }
  const assess = (nowMs: number) => assessClock(clockEvidence(), { wallMs: nowMs, monoMs: clock.monotonic() }, cfg.maxClockDriftS * 1000);

  const rebuild = () => buildView(sources.map((s) => s.snapshot), { maxAgeMs: cfg.maxAgeS * 1000, overlay, clock: assess });

  /** Logs the clock turning untrusted (or trusted again) once per change; the lanes and /metrics say the rest. */
  function checkClock(): void {
    const c = current.status(clock.now()).clockUntrusted;
    if (c && !clockWasUntrusted) {
      log.error(
        { code: "GW_CLOCK_UNTRUSTED", event: "trust.clock_untrusted", basis: c.basis, offsetMs: c.offsetMs, maxClockDriftS: cfg.maxClockDriftS },
        c.basis === "server-date" ? "local clock differs from the trust server's Date header: verdicts are flagged CLOCK_UNTRUSTED" : "local clock is behind a signed trust list's issue time: verdicts are flagged CLOCK_UNTRUSTED",
      );
    } else if (!c && clockWasUntrusted) log.info({ event: "trust.clock_trusted" }, "local clock agrees with the trust evidence again");
    clockWasUntrusted = c !== undefined;
  }

  let current = rebuild();

  /** Undefined until every signed list has loaded: before that nobody knows who may sign deltas. */
  function currentSigners(): RevocationSigner[] | undefined {
    if (!sources.every((s) => !(s instanceof SignedListSource) || s.snapshot.version !== undefined)) return undefined;
    return sources.flatMap((s) => s.snapshot.revocationSigners ?? []);
  }

  function countRefused(jws: string, id: string, e: DeltaRefused): void {
    const d = createHash("sha256").update(jws).digest("hex");
    if (refusedDigests.has(d)) return;
    if (refusedDigests.size < MAX_REFUSED_TRACKED) refusedDigests.add(d);
    else refusedOverflow++;
    log.warn({ code: "GW_TRUST_SIGNATURE", entry: id, reason: e.reason }, "revocation delta refused");
  }

  /** Verifies one delta against the current signers; true if it is newly accepted. */
  function admit(jws: string, id: string, signers: readonly RevocationSigner[]): boolean {
    if (accepted.has(jws)) return false;
    try {
      if (jws.length > MAX_DELTA_CHARS) throw new DeltaRefused("schema", "revocation delta too large");
      accepted.set(jws, { ...verifyRevocationDelta(jws, signers), id });
      return true;
    } catch (e) {
      if (!(e instanceof DeltaRefused)) throw e;
      countRefused(jws, id, e);
      return false;
    }
  }

  /** Folds the accepted deltas in signed order (re-appending an old delta cannot undo a newer one). */
  function foldDeltas(): void {
    const good = [...accepted.values()].sort((a, b) => a.issuedAt - b.issuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let o = RevocationSet.empty;
    for (const d of good) o = o.withDelta(d.delta);
    overlay = o;
  }

  /** When the signers change, accepted deltas are re-checked and the stream is read again from the start. */
  function syncSigners(): boolean {
    const signers = currentSigners();
    if (!signers) return false;
    const key = signers.map((x) => `${x.kid}:${x.key.export({ format: "der", type: "spki" }).toString("base64")}`).sort().join(",");
    if (key === signersKey) return false;
    signersKey = key;
    const before = accepted.size;
    for (const [jws, d] of [...accepted]) {
      accepted.delete(jws);
      admit(jws, d.id, signers);
    }
    for (const d of diskDeltas) admit(d.jws.trim(), d.id, signers);
    streamPos = "0";
    foldDeltas();
    return accepted.size !== before;
  }

  async function pullSharedRevocations(): Promise<boolean> {
    let changed = syncSigners();
    const signers = currentSigners();
    if (shared && signers) {
      const r = await shared.readRevocations(streamPos);
      if (r) {
        // A trimmed stream (reset) drops nothing already accepted: deltas are signed, so what we verified
        // stays verified, and a Redis writer cannot un-revoke by trimming.
        let pulled = false;
        for (const e of r.entries) pulled = admit(e.data.trim(), e.id, signers) || pulled;
        streamPos = r.lastId;
        if (pulled) foldDeltas();
        changed ||= pulled;
      }
    }
    if (changed) await saveDeltas();
    return changed;
  }

  function deltaSetKey(entries: readonly StoredDelta[]): string {
    return createHash("sha256").update(entries.map((e) => e.jws.trim()).sort().join("\n")).digest("hex");
  }

  /** What the signed lists revoke: a delta they carry entirely changes nothing and is not kept on disk. */
  function signedRevocations(): RevocationSet {
    const lists = sources.filter((s) => s instanceof SignedListSource).map((s) => s.snapshot);
    return new RevocationSet(lists.flatMap((s) => (s.hashes ? [s.hashes] : [])), undefined, undefined, mergeRidMaps(lists.flatMap((s) => (s.shc ? [s.shc] : []))));
  }

  /**
   * Writes the accepted deltas that still matter to disk (tmp, fsync, rename), one write at a time,
   * each of the set as it is then. Not before the signed lists have loaded: until then nothing is
   * accepted, and writing that would erase what the next start needs.
   */
  function saveDeltas(): Promise<void> {
    saving = saving
      .then(async () => {
        const signers = currentSigners();
        if (!signers) return;
        if (deltaCopyUnread) {
          // Whatever the copy on disk holds must be in what is written over it.
          await loadDiskDeltas();
          if (deltaCopyUnread) return;
          for (const d of diskDeltas) admit(d.jws.trim(), d.id, signers);
          foldDeltas();
          current = rebuild();
          emit("updated", current.status(clock.now()));
        }
        const signed = signedRevocations();
        const keep = [...accepted].filter(([, d]) => !deltaCarried(d.delta, signed)).map(([jws, d]) => ({ id: d.id, jws }));
        const key = deltaSetKey(keep);
        if (key === savedDeltas) return;
        await deltaCopy.save(keep);
        savedDeltas = key;
      })
      .catch((e: unknown) =>
        log.warn({ code: "GW_TRUST_FETCH", reason: "disk", err: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, "revocation deltas not saved to disk: a restart without the Redis stream would lack them"),
      );
    return saving;
  }

  async function loadDiskDeltas(): Promise<void> {
    try {
      diskDeltas = await deltaCopy.load();
      savedDeltas = deltaSetKey(diskDeltas);
      deltaCopyUnread = false;
    } catch (e) {
      const err = e instanceof SourceError ? e : new SourceError("GW_TRUST_FETCH", "internal", (e as Error).message);
      if (!deltaCopyUnread) deltaCopyRefused++;
      if (err.reason === "disk-damaged" || err.reason === "size") {
        // It will never load: kept aside for a person, so the next save starts a new copy instead of erasing it.
        const aside = await deltaCopy.setAside(clock.now()).catch(() => undefined);
        deltaCopyUnread = aside === undefined;
        log.error({ code: err.code, reason: err.reason, err: err.message, ...(aside ? { keptAs: aside } : {}) }, "disk copy of revocation deltas rejected: what it held is applied again only when the Redis stream or the signed list carries it");
      } else {
        deltaCopyUnread = true;
        log.warn({ code: err.code, reason: err.reason, err: err.message }, "disk copy of revocation deltas cannot be read: it is not overwritten, and read again before the next save");
      }
    }
  }

  function checkStale(): void {
    const st = current.status(clock.now());
    if (st.stale && !wasStale) {
      log.error({ code: "GW_TRUST_STALE", ageMs: st.ageMs, version: st.version }, "trust data is stale; verdicts are flagged TRUST_STALE");
      emit("stale", st);
    }
    wasStale = st.stale;
    if (staleTimer) clock.clearTimeout(staleTimer);
    staleTimer = undefined;
    if (!st.stale && st.refreshedAt !== undefined && !stopped) {
      // Clamped: a maxAgeS above ~24.8 days would overflow setTimeout into a 1 ms spin; a timer that
      // fires early just re-checks and re-arms for the rest.
      staleTimer = clock.setTimeout(checkStale, clampTimerMs(st.refreshedAt + cfg.maxAgeS * 1000 - clock.now() + 1));
    }
  }

  // Site revocations must not wait for the (hourly) refresh: the Redis stream is polled on its own, cheaply.
  let pollTimer: TimerHandle | undefined;
  let polling = false;
  function schedulePoll(): void {
    if (!shared || stopped) return;
    pollTimer = clock.setTimeout(() => {
      pollTimer = undefined;
      if (polling || inflight) return schedulePoll();
      polling = true;
      void pullSharedRevocations()
        .then((changed) => {
          if (!changed) return;
          current = rebuild();
          emit("updated", current.status(clock.now()));
        })
        .catch((e: unknown) => log.warn({ code: "GW_REDIS_UNAVAILABLE", err: (e as Error).message }, "revocation poll failed"))
        .finally(() => {
          polling = false;
          schedulePoll();
        });
    }, clampTimerMs((cfg.sharedPollS ?? 30) * 1000));
  }

  function schedule(): void {
    if (stopped) return;
    if (refreshTimer) clock.clearTimeout(refreshTimer);
    const interval = cfg.refreshIntervalS * 1000;
    const base = failures === 0 ? interval : Math.min(interval, RETRY_BASE_MS * 2 ** (failures - 1));
    const delay = clampTimerMs(Math.round(base * (0.9 + 0.2 * random())));
    refreshTimer = clock.setTimeout(() => {
      refreshTimer = undefined;
      void refreshNow().catch(() => undefined);
    }, delay);
  }

  async function refreshOnce(): Promise<TrustStatus> {
    const results = await Promise.allSettled(sources.map((s) => s.refresh()));
    let changed = false;
    let failed = 0;
    results.forEach((r, i) => {
      const src = sources[i]!;
      if (r.status === "fulfilled") {
        changed ||= r.value;
        return;
      }
      failed++;
      const err = r.reason instanceof SourceError ? r.reason : new SourceError("GW_TRUST_FETCH", "internal", String((r.reason as Error)?.message ?? r.reason));
      log.warn({ code: err.code, source: src.id, reason: err.reason, err: err.message }, "trust source refresh failed; last good copy kept");
      emit("error", { source: src.id, code: err.code, reason: err.reason });
    });
    if (await pullSharedRevocations()) changed = true;
    // A new signed list may carry deltas kept on disk so far.
    else if (changed) await saveDeltas();
    failures = failed > 0 ? failures + 1 : 0;
    current = rebuild();
    if (changed) emit("updated", current.status(clock.now()));
    checkStale();
    checkClock();
    return current.status(clock.now());
  }

  function refreshNow(): Promise<TrustStatus> {
    if (!inflight) {
      inflight = refreshOnce().finally(() => {
        inflight = undefined;
        schedule();
      });
    }
    return inflight;
  }

  return {
    view: () => current,
    status: () => current.status(clock.now()),
    on(event, fn) {
      const arr = listeners.get(event) ?? [];
      arr.push(fn);
      listeners.set(event, arr);
    },
    async start() {
      stopped = false;
      abort = new AbortController();
      env.signal = abort.signal;
      const loaded = await Promise.all(sources.map((s) => s.init().catch(() => false)));
      await loadDiskDeltas();
      // Admits the deltas just read from disk as soon as the signers are known, even on a store started before.
      signersKey = undefined;
      await pullSharedRevocations();
      current = rebuild();
      if (loaded.some(Boolean)) emit("updated", current.status(clock.now()));
      checkClock();
      await refreshNow();
      if (pollTimer) clock.clearTimeout(pollTimer);
      schedulePoll();
    },
    refreshNow,
    async stop() {
      stopped = true;
      abort.abort();
      if (refreshTimer) clock.clearTimeout(refreshTimer);
      if (staleTimer) clock.clearTimeout(staleTimer);
      if (pollTimer) clock.clearTimeout(pollTimer);
      refreshTimer = staleTimer = pollTimer = undefined;
      await inflight?.catch(() => undefined);
      if (refreshTimer) clock.clearTimeout(refreshTimer);
      refreshTimer = undefined;
      await saving;
    },
    async publishRevocations(signedDelta) {
      const jws = signedDelta.trim();
      syncSigners();
      const signers = currentSigners();
      if (!signers) throw new DeltaRefused("unknown-signer", "no signed trust list loaded yet: nobody is named to sign revocation deltas");
      try {
        if (jws.length > MAX_DELTA_CHARS) throw new DeltaRefused("schema", "revocation delta too large");
        verifyRevocationDelta(jws, signers);
      } catch (e) {
        if (e instanceof DeltaRefused) countRefused(jws, "local", e);
        throw e;
      }
      admit(jws, "local", signers);
      foldDeltas();
      current = rebuild();
      emit("updated", current.status(clock.now()));
      await saveDeltas();
      if (!shared) return { shared: false };
      const ok = await shared.publishRevocations(jws);
      // Our own entry comes back on the next pull; it is the same text, so it counts once.
      return { shared: ok };
    },
    stats: () => ({
      revocationDeltasApplied: accepted.size,
      revocationDeltasRefused: refusedDigests.size + refusedOverflow,
      cacheCopiesRefused: sources.reduce((a, s) => a + (s.cacheRefused ?? 0), deltaCopyRefused),
    }),
  };
}
