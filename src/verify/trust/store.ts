import { readFile } from "node:fs/promises";
import type { Cluster, Redis } from "ioredis";
import { clampTimerMs, MAX_TIMER_MS, systemClock, type Clock, type TimerHandle } from "../../core/clock.js";
import { GatewayError } from "../../core/errors.js";
import { moduleLogger, type Logger } from "../../core/logger.js";
import type { TrustConfig } from "./options.js";
import { parseRootKey, TrustKeyError } from "./keys.js";
import { createRevocationDeltas } from "./revocation-deltas.js";
import { mergeRidMaps, RevocationSet } from "./revocations.js";
import type { RevocationSigner } from "./signed-delta.js";
import { createRedisCache, type SharedCache } from "./shared-cache.js";
import { DEFAULT_MAX_LIST_BYTES } from "./signed-list.js";
import type { SourceEnv, TrustSource } from "./sources/base.js";
import { CertSource } from "./sources/cert-source.js";
import { SourceError } from "./sources/errors.js";
import { defaultJwksUrl, JwksSource } from "./sources/jwks-source.js";
import { RevocationSource } from "./sources/revocation-source.js";
import { SignedListSource } from "./sources/signed-list-source.js";
import type { TrustStatus, TrustView } from "./types.js";
import { buildView, type SourceSnapshot } from "./view.js";
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
  /**
   * Loads the disk copies, then refreshes every source. Resolves once that first refresh is done;
   * with `untilUsable`, as soon as every source holds data fresh enough to verify with (its disk
   * copy, not older than maxAgeS, its CRLs too) or has settled its first refresh, while the rest
   * of the refresh goes on: a start with good disk copies does not wait on a slow server.
   */
  start(opts?: { untilUsable?: boolean }): Promise<void>;
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

const RETRY_BASE_MS = 30_000;

export async function createTrustStore(opts: TrustStoreOptions): Promise<TrustStore> {
  const clock = opts.clock ?? systemClock;
  const log = moduleLogger(opts.logger, "trust");
  const cfg = opts.config;
  const random = opts.random ?? Math.random;
  const maxAgeMs = cfg.maxAgeS * 1000;
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

  let clockWasUntrusted = false;
  let wasStale = false;
  let failures = 0;
  let stopped = false;
  let refreshTimer: TimerHandle | undefined;
  let staleTimer: TimerHandle | undefined;
  let inflight: Promise<TrustStatus> | undefined;
  let abort = new AbortController();
  /** Sources whose first refresh (CRLs included) has settled since start(), and who waits for that. */
  let settledOnce = new Set<TrustSource>();
  let onSettled: (() => void) | undefined;

  /** Undefined until every signed list has loaded: before that nobody knows who may sign deltas. */
  function currentSigners(): RevocationSigner[] | undefined {
    if (!sources.every((s) => !(s instanceof SignedListSource) || s.snapshot.version !== undefined)) return undefined;
    return sources.flatMap((s) => s.snapshot.revocationSigners ?? []);
  }

  /** What the signed lists revoke: a delta they carry entirely changes nothing and is not kept on disk. */
  function signedRevocations(): RevocationSet {
    const lists = sources.filter((s) => s instanceof SignedListSource).map((s) => s.snapshot);
    return new RevocationSet(lists.flatMap((s) => (s.hashes ? [s.hashes] : [])), undefined, undefined, mergeRidMaps(lists.flatMap((s) => (s.shc ? [s.shc] : []))));
  }

  const deltas = createRevocationDeltas({ stateDir: opts.stateDir, clock, log, ...(shared ? { shared } : {}), signers: currentSigners, signedRevocations, changed: () => apply(true) });

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

  /** The snapshots the view in use was built from: a source that replaced its snapshot since needs a rebuild. */
  let built: readonly SourceSnapshot[] = [];
  function rebuild(): TrustView {
    built = sources.map((s) => s.snapshot);
    return buildView(built, { maxAgeMs, overlay: deltas.overlay(), clock: assess });
  }
  let current = rebuild();

  /**
   * Puts what the sources and the deltas hold now in use (data only changes on a complete, valid
   * refresh of a source, and deltas only add: nothing applied early is weaker than what it
   * replaces). `changed`: the data changed, not only its age: say "updated".
   */
  function apply(changed: boolean): void {
    if (changed || sources.some((s, i) => s.snapshot !== built[i])) current = rebuild();
    if (changed) emit("updated", current.status(clock.now()));
  }

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
      staleTimer = clock.setTimeout(checkStale, clampTimerMs(st.refreshedAt + maxAgeMs - clock.now() + 1));
    }
  }

  // Site revocations must not wait for the (hourly) refresh: the Redis stream is polled on its own,
  // cheaply, also while a refresh waits on a slow server (revocation-deltas.ts keeps overlapping pulls correct).
  let pollTimer: TimerHandle | undefined;
  let polling = false;
  function schedulePoll(): void {
    if (!shared || stopped) return;
    pollTimer = clock.setTimeout(() => {
      pollTimer = undefined;
      if (polling) return schedulePoll();
      polling = true;
      void deltas
        .pull()
        .then((changed) => apply(changed))
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

  /**
   * One source's refresh, applied the moment it settles: a source waiting on a slow server holds
   * back no other (a signed list's revocation applies while an issuer's CRL host times out). Its
   * CRLs come second, so its own data does not wait on them either.
   */
  async function refreshSource(s: TrustSource): Promise<{ changed: boolean; failed: boolean }> {
    let changed = false;
    let failed = false;
    try {
      changed = await s.refresh();
    } catch (e) {
      failed = true;
      const err = e instanceof SourceError ? e : new SourceError("GW_TRUST_FETCH", "internal", String((e as Error)?.message ?? e));
      // Only a source that had data (a download or a disk copy) keeps a copy; one whose disk copy was
      // missing or damaged has none, and saying otherwise hid that its keys or list are absent.
      const kept = s.snapshot.refreshedAt !== undefined;
      log.warn(
        { code: err.code, source: s.id, reason: err.reason, err: err.message, copyKept: kept },
        kept ? "trust source refresh failed; last good copy kept" : "trust source refresh failed; no copy of it is held (none on disk, or the disk copy was refused): its data is missing until a download succeeds",
      );
      emit("error", { source: s.id, code: err.code, reason: err.reason });
    }
    apply(changed);
    if (s.refreshCrls && !stopped) {
      const crls = await s.refreshCrls().catch((e: unknown) => {
        log.warn({ code: "GW_TRUST_FETCH", source: s.id, reason: "internal", err: (e as Error).message }, "SHC revocation lists not refreshed");
        return false;
      });
      apply(crls);
      changed ||= crls;
    }
    settledOnce.add(s);
    onSettled?.();
    return { changed, failed };
  }

  async function refreshOnce(): Promise<TrustStatus> {
    const results = await Promise.all(sources.map(refreshSource));
    const changed = results.some((r) => r.changed);
    if (await deltas.pull()) apply(true);
    // A new signed list may carry deltas kept on disk so far.
    else if (changed) await deltas.save();
    failures = results.some((r) => r.failed) ? failures + 1 : 0;
    apply(false);
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

  /** A source holding data good to verify with before its first refresh: a disk copy within maxAgeS, CRLs too. */
  function usableCopy(s: SourceSnapshot, now: number): boolean {
    if (s.refreshedAt === undefined || now - s.refreshedAt > maxAgeMs) return false;
    if (s.expiresAt !== undefined && s.expiresAt <= now) return false;
    for (const at of s.crl?.asOf.values() ?? []) if (at === undefined || now - at > maxAgeMs) return false;
    return true;
  }

  /** Resolves when every source is usable from its disk copy or has settled its first refresh (or `first` ends). */
  function untilUsable(first: Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        onSettled = undefined;
        resolve();
      };
      onSettled = () => {
        const now = clock.now();
        if (sources.every((s) => settledOnce.has(s) || usableCopy(s.snapshot, now))) done();
      };
      onSettled();
      void first.then(done, done);
    });
  }

  return {
    view: () => current,
    status: () => current.status(clock.now()),
    on(event, fn) {
      const arr = listeners.get(event) ?? [];
      arr.push(fn);
      listeners.set(event, arr);
    },
    async start(startOpts = {}) {
      stopped = false;
      abort = new AbortController();
      env.signal = abort.signal;
      settledOnce = new Set();
      const loaded = await Promise.all(sources.map((s) => s.init().catch(() => false)));
      await deltas.loadDisk();
      // Admits the deltas just read from disk as soon as the signers are known, even on a store started before.
      deltas.resetSigners();
      await deltas.pull();
      current = rebuild();
      if (loaded.some(Boolean)) emit("updated", current.status(clock.now()));
      checkClock();
      const first = refreshNow();
      if (startOpts.untilUsable) {
        first.catch((e: unknown) => log.error({ err: (e as Error).message }, "first trust refresh failed"));
        await untilUsable(first);
      } else await first;
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
      await deltas.settled();
    },
    publishRevocations: (signedDelta) => deltas.publish(signedDelta, () => apply(true)),
    stats: () => {
      const d = deltas.stats();
      return {
        revocationDeltasApplied: d.applied,
        revocationDeltasRefused: d.refused,
        cacheCopiesRefused: sources.reduce((a, s) => a + (s.cacheRefused ?? 0), d.copyRefused),
      };
    },
  };
}
