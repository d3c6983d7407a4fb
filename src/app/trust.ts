import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../core/clock.js";
import { GatewayError } from "../core/errors.js";
import { moduleLogger, type Logger } from "../core/logger.js";
import type { GatewayConfig } from "../config/schema.js";
import type { VerifyFn } from "../lane/index.js";
import { createVerifier, type Verifier } from "../verify/index.js";
import { createTrustStore, type TrustStore } from "../verify/trust/index.js";

export interface TrustDeps {
  clock: Clock;
  logger: Logger;
  /** Salt for credential hashes (replay keys, revocation matches). */
  salt: string;
  /** With Redis the store shares its cache and revocations under `<prefix>trust:`. */
  redis?: { client: Redis | Cluster; keyPrefix: string };
}

/** The trust store and the verifier over it; a reload of `trust` replaces both. */
export interface TrustSlot {
  readonly store: TrustStore;
  /** Always the current verifier, so lanes built before a reload verify with the new trust. */
  readonly verify: VerifyFn;
  /** Opens the new store before the old one stops: verification never runs without trust. */
  replace(cfg: GatewayConfig): Promise<void>;
  stop(): Promise<void>;
}

export async function openTrust(cfg: GatewayConfig, d: TrustDeps): Promise<TrustSlot> {
  const log = moduleLogger(d.logger, "app");
  const open = async (c: GatewayConfig): Promise<TrustStore> => {
    const t = await createTrustStore({ config: c.trust, stateDir: c.gateway.stateDir, clock: d.clock, logger: d.logger, ...(d.redis ? { redis: d.redis.client, redisPrefix: `${d.redis.keyPrefix}trust:` } : {}) });
    // A failed first refresh is not fatal: the store keeps its disk copy and reports staleness. Nor is
    // it waited for when the disk copies are fresh enough to verify with: one slow trust or CRL server
    // must not hold the lanes and HTTP back (a source with nothing usable is still waited for, and
    // if it never loads the lanes say TRUST_STALE).
    await t.start({ untilUsable: true }).catch((e: unknown) => log.error({ err: (e as Error).message }, "trust store start failed"));
    return t;
  };
  const verifierFor = (c: GatewayConfig): Verifier => createVerifier({ trust: () => store.view(), salt: d.salt, clockSkewS: c.trust.clockSkewS, staleAction: c.trust.staleAction, clockAction: c.trust.clockAction });
  let store = await open(cfg);
  let verifier = verifierFor(cfg);
  return {
    get store() {
      return store;
    },
    verify: (text, ctx) => verifier.verify(text, ctx),
    async replace(c) {
      const old = store;
      const fresh = await open(c);
      // A store that cannot verify (unreachable source, no disk copy) would put every lane on
      // TRUST_STALE: the working one stays and the step fails.
      const s = fresh.status();
      if (s.stale) {
        await fresh.stop().catch(() => undefined);
        const why = s.sources.filter((x) => !x.ok).map((x) => `${x.source}: ${x.error ?? "not loaded"}`).join("; ");
        throw new GatewayError("GW_TRUST_FETCH", `the new trust configuration has no usable data (${why || "stale"}); the previous trust store stays`);
      }
      store = fresh;
      verifier = verifierFor(c);
      await old.stop().catch((e: unknown) => log.warn({ err: (e as Error).message }, "old trust store did not stop cleanly"));
    },
    stop: () => store.stop(),
  };
}
