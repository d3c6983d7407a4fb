import { readFileSync } from "node:fs";
import { CompactSign, compactVerify, importJWK, type JWK } from "jose";
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import type { LedgerHead } from "./chain.js";

/**
 * The ledger head anchored outside the ledger directory. Someone who can rewrite the files can
 * recompute the whole chain and `ledger.head.json`; they cannot rewrite what Redis and the MQTT
 * broker already hold, nor sign a head without the gateway key. `ledger verify --head/--redis`
 * compares the files with such a head.
 */
export interface AnchoredHead extends LedgerHead {
  gw: string;
  /** ISO time the head was published. */
  at: string;
  /** Compact JWS over the JSON of {gw, file, seq, hash, at}, when the gateway has a signing key. */
  jws?: string;
}

/** Where a head goes: Redis SET, MQTT retained publish. */
export interface HeadSink {
  name: string;
  put(json: string): Promise<void>;
}

export interface HeadSigner {
  kid?: string;
  sign(payload: string): Promise<string>;
}

function algFor(jwk: JWK): string {
  if (jwk.alg) return jwk.alg;
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  if (jwk.kty === "EC" && jwk.crv === "P-384") return "ES384";
  throw new Error(`signing key: unsupported key type ${jwk.kty}/${jwk.crv ?? "?"} (use an EC P-256 or Ed25519 JWK)`);
}

/** Loads a private JWK file (never logged: errors name the path and the problem only). */
export async function loadHeadSigner(path: string): Promise<HeadSigner> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(path, "utf8")) as JWK;
  } catch (e) {
    throw new Error(`signing key ${path}: cannot read a JWK (${(e as NodeJS.ErrnoException).code ?? "invalid JSON"})`, { cause: e });
  }
  if (!jwk.d) throw new Error(`signing key ${path}: not a private key (no "d")`);
  const alg = algFor(jwk);
  const key = await importJWK(jwk, alg);
  return {
    ...(jwk.kid ? { kid: jwk.kid } : {}),
    sign: (payload) => new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg, ...(jwk.kid ? { kid: jwk.kid } : {}), typ: "cpgw-ledger-head" }).sign(key),
  };
}

function signedPart(h: Omit<AnchoredHead, "jws">): string {
  return JSON.stringify({ gw: h.gw, file: h.file, seq: h.seq, hash: h.hash, at: h.at });
}

/** Checks an anchored head's JWS with a public JWK; returns the signed fields or throws. */
export async function verifyAnchoredHead(h: AnchoredHead, publicJwk: JWK): Promise<void> {
  if (!h.jws) throw new Error("the head is not signed");
  const key = await importJWK(publicJwk, algFor(publicJwk));
  const { payload } = await compactVerify(h.jws, key);
  if (new TextDecoder().decode(payload) !== signedPart(h)) throw new Error("the signed head differs from the head's fields");
}

/** Parses an anchored head (JSON from a file, Redis or MQTT) with a clear error. */
export function parseAnchoredHead(text: string, from: string): AnchoredHead {
  let h: Partial<AnchoredHead>;
  try {
    h = JSON.parse(text) as Partial<AnchoredHead>;
  } catch {
    throw new Error(`${from}: not JSON`);
  }
  if (!h || typeof h.file !== "string" || !Number.isSafeInteger(h.seq) || typeof h.hash !== "string" || !/^[0-9a-f]{64}$/.test(h.hash)) {
    throw new Error(`${from}: not a ledger head ({file, seq, hash})`);
  }
  return h as AnchoredHead;
}

export interface HeadAnchorOptions {
  gatewayId: string;
  sinks: () => HeadSink[];
  signer?: HeadSigner;
  clock: Clock;
  logger: Logger;
  /** Publishes at most this often (the last head wins); also at close. */
  intervalMs?: number;
}

/** One sink's progress: `anchoredSeq` is the newest head it accepted. */
export interface HeadSinkStats {
  published: number;
  failures: number;
  anchoredSeq?: number;
}

export interface HeadAnchorStats {
  /** Heads that at least one sink accepted. */
  published: number;
  /** Every failure: sink puts that failed plus heads that could not be signed. */
  failures: number;
  signErrors: number;
  /** The newest head at least one sink accepted; a head no sink took is not counted as anchored. */
  lastPublishedSeq?: number;
  /** Per sink name (`redis`, `mqtt`). */
  sinks: Record<string, HeadSinkStats>;
}

export interface HeadAnchor {
  update(head: LedgerHead): void;
  /** Publishes the pending head now (shutdown). */
  flush(): Promise<void>;
  stats(): HeadAnchorStats;
  close(): Promise<void>;
}

/** Coalesces heads and publishes the latest to every sink, signed when a key is configured. */
export function createHeadAnchor(opts: HeadAnchorOptions): HeadAnchor {
  const log = opts.logger.child({ module: "events.ledger.anchor" });
  const interval = opts.intervalMs ?? 1000;
  let pending: LedgerHead | undefined;
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  const failedSinks = new Set<string>();
  const counters = { published: 0, failures: 0, signErrors: 0, lastPublishedSeq: undefined as number | undefined };
  const perSink = new Map<string, HeadSinkStats & { hash?: string }>();
  const sinkStats = (name: string) => {
    let s = perSink.get(name);
    if (!s) perSink.set(name, (s = { published: 0, failures: 0 }));
    return s;
  };

  async function publish(): Promise<void> {
    const head = pending;
    pending = undefined;
    if (!head) return;
    // A retry goes only to the sinks that do not hold this head yet.
    const targets = opts.sinks().filter((s) => {
      const st = perSink.get(s.name);
      return st?.anchoredSeq !== head.seq || st.hash !== head.hash;
    });
    if (targets.length === 0) return;
    const base = { gw: opts.gatewayId, file: head.file, seq: head.seq, hash: head.hash, at: new Date(opts.clock.now()).toISOString() };
    let rec: AnchoredHead = base;
    if (opts.signer) {
      try {
        rec = { ...base, jws: await opts.signer.sign(signedPart(base)) };
      } catch (e) {
        counters.failures++;
        counters.signErrors++;
        log.error({ code: "GW_LEDGER_ANCHOR", err: (e as Error).message }, "ledger head could not be signed; publishing it unsigned");
      }
    }
    const json = JSON.stringify(rec);
    let accepted = 0;
    await Promise.all(
      targets.map(async (s) => {
        const st = sinkStats(s.name);
        try {
          await s.put(json);
          accepted++;
          st.published++;
          st.anchoredSeq = head.seq;
          st.hash = head.hash;
          if (failedSinks.delete(s.name)) log.info({ sink: s.name }, "ledger head published again");
        } catch (e) {
          counters.failures++;
          st.failures++;
          // One log per sink outage: Redis or the broker being down is reported by their own outputs.
          if (!failedSinks.has(s.name)) log.warn({ code: "GW_LEDGER_ANCHOR", sink: s.name, err: (e as Error).message }, "ledger head not published");
          failedSinks.add(s.name);
          // Retried at the next interval, unless a newer head has come in meanwhile (it replaces this one).
          pending ??= head;
        }
      }),
    );
    // Progress is what a sink took: a head that reached no sink is not anchored anywhere.
    if (accepted > 0) {
      counters.published++;
      if (counters.lastPublishedSeq === undefined || head.seq > counters.lastPublishedSeq) counters.lastPublishedSeq = head.seq;
    }
  }

  function run(): Promise<void> {
    running ??= publish()
      .catch((e: unknown) => log.error({ err: (e as Error).message }, "ledger head publish failed"))
      .finally(() => {
        running = undefined;
        // A head left pending (a sink failed, or an update came in meanwhile) goes out at the next interval.
        if (pending) schedule();
      });
    return running;
  }

  function schedule(): void {
    if (timer || closed) return;
    timer = opts.clock.setTimeout(() => {
      timer = undefined;
      void run();
    }, interval);
  }

  async function flush(): Promise<void> {
    if (running) await running;
    await run();
  }

  return {
    update(head) {
      if (closed) return;
      pending = head;
      schedule();
    },
    flush,
    stats: () => ({
      ...counters,
      sinks: Object.fromEntries([...perSink].map(([name, { published, failures, anchoredSeq }]) => [name, { published, failures, ...(anchoredSeq !== undefined ? { anchoredSeq } : {}) }])),
    }),
    async close() {
      if (closed) return;
      // Closed first: the last attempt below must not leave a retry timer behind.
      closed = true;
      if (timer) opts.clock.clearTimeout(timer);
      timer = undefined;
      await flush();
    },
  };
}

/** Redis key of a gateway's published ledger head (under `redis.keyPrefix`). */
export function ledgerHeadKey(keyPrefix: string, gatewayId: string): string {
  return `${keyPrefix}ledger:head:${gatewayId}`;
}

/** Retained MQTT topic of a gateway's ledger head. */
export function ledgerHeadTopic(topicPrefix: string, gatewayId: string): string {
  return `${topicPrefix}/${gatewayId}/ledger/head`;
}

export function redisHeadSink(redis: { set(key: string, value: string): Promise<unknown> }, key: string): HeadSink {
  return { name: "redis", put: async (json) => void (await redis.set(key, json)) };
}

/** `publish` resolves false while the broker is unreachable (the head is retried with the next one). */
export function mqttHeadSink(publish: (topic: string, payload: string, o: { retain: boolean }) => Promise<boolean>, topic: string): HeadSink {
  return {
    name: "mqtt",
    put: async (json) => {
      if (!(await publish(topic, json, { retain: true }))) throw new Error("mqtt not connected");
    },
  };
}
