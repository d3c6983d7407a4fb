import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import rateLimit from "@fastify/rate-limit";
import type { Logger } from "../../core/logger.js";
import { secretMasker } from "../../core/mask.js";
import { RefusalLog, skippedField } from "./refusals.js";

export interface AdminActions {
  /** Applies the config file; resolves with what was applied and what needs a restart (returned to the caller). */
  reloadConfig(): Promise<unknown>;
  refreshTrust(): Promise<unknown>;
  pauseLane(id: string): void;
  resumeLane(id: string): void;
}

export interface AdminOptions {
  token: string;
  rateLimitPerMinute: number;
  actions: AdminActions;
  laneIds: () => string[];
  /** Summary returned after a trust refresh (never the raw refresh result, which may hold keys). */
  trustSummary: () => unknown;
  /** Called after an action that may change what displays show. */
  onChanged: (lane?: string) => void;
  logger: Logger;
  /** Told of every request refused for its token (counted for /metrics). */
  refused?: (reason: "no-token" | "bad-token") => void;
  /** Epoch ms, for how often refusals are logged (Date.now by default). */
  now?: () => number;
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Constant-time: both sides are hashed to equal length first, so neither length nor prefix leaks. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  const ok = timingSafeEqual(digest(m?.[1] ?? ""), digest(token));
  return ok && m !== null;
}

function failure(reply: FastifyReply, e: unknown, log: Logger, action: string) {
  const code = typeof (e as { code?: unknown })?.code === "string" ? (e as { code: string }).code : "GW_ADMIN_ACTION_FAILED";
  const message = secretMasker.mask(e instanceof Error ? e.message : String(e));
  log.warn({ action, code, err: message }, "admin action failed");
  return reply.code(500).send({ ok: false, code, message });
}

/**
 * The admin API lives on its own listener (loopback by default) so the read-only display port
 * can be exposed to kiosks without exposing control. Every request counts against a rate limit,
 * but requests with the right token and those without it have separate budgets per client: a flood
 * of bad tokens is throttled (the token cannot be guessed quickly) and never locks the operator out.
 * An unknown path is 404 for everyone, token or not, from a budget of its own per client.
 */
export async function buildAdminServer(o: AdminOptions): Promise<FastifyInstance> {
  const log = o.logger;
  const logged = new RefusalLog(o.now ?? Date.now);
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), forceCloseConnections: true, bodyLimit: 16 * 1024 });
  await app.register(rateLimit, {
    global: true,
    max: o.rateLimitPerMinute,
    timeWindow: 60_000,
    // Keyed by whether the token matches (constant time), so only the token holder spends the operator's budget.
    keyGenerator: (req) => `${bearerMatches(req.headers.authorization, o.token) ? "operator" : "unauthenticated"}:${req.ip}`,
    onExceeded: (req) => {
      const skipped = logged.take("throttled");
      if (skipped !== undefined) log.warn({ method: req.method, url: req.url.split("?")[0], remote: req.ip, ...skippedField(skipped) }, "admin requests throttled (rate limit)");
    },
  });
  // The global limit hooks registered routes only. Unknown paths get their own limit, keyed by the
  // client alone: a token that changed the answer there (401 or 404, or 429 or 404 once one budget
  // is spent) would let a guesser test tokens on a path that nothing throttled.
  app.setNotFoundHandler({ preValidation: app.rateLimit({ keyGenerator: (req) => `unknown-path:${req.ip}` }) }, (_req, reply) => reply.code(404).send({ ok: false, code: "NOT_FOUND" }));
  // preHandler, not onRequest: rate-limit's own per-route onRequest hook must run first.
  app.addHook("preHandler", async (req, reply) => {
    if (req.is404) return;
    if (!bearerMatches(req.headers.authorization, o.token)) {
      o.refused?.(req.headers.authorization === undefined ? "no-token" : "bad-token");
      const skipped = logged.take("refused");
      if (skipped !== undefined) log.warn({ method: req.method, url: req.url.split("?")[0], remote: req.ip, ...skippedField(skipped) }, "admin request refused (bad or missing token)");
      return reply.code(401).header("www-authenticate", 'Bearer realm="checkpoint-gateway admin"').send({ ok: false, code: "GW_ADMIN_UNAUTHORIZED" });
    }
  });
  app.addHook("onResponse", async (req, reply) => {
    // Refused and throttled requests have their own lines, bounded above: a flood must not repeat them here.
    if (reply.statusCode === 401 || reply.statusCode === 429) return;
    log.info({ method: req.method, url: req.url.split("?")[0], status: reply.statusCode, remote: req.ip }, "admin request");
  });

  app.post("/admin/reload", async (_req, reply) => {
    try {
      const result = await o.actions.reloadConfig();
      o.onChanged();
      return { ok: true, ...(result !== null && typeof result === "object" ? result : {}) };
    } catch (e) {
      return failure(reply, e, log, "reload");
    }
  });
  app.post("/admin/trust/refresh", async (_req, reply) => {
    try {
      await o.actions.refreshTrust();
      o.onChanged();
      return { ok: true, trust: o.trustSummary() };
    } catch (e) {
      return failure(reply, e, log, "trust-refresh");
    }
  });
  for (const action of ["pause", "resume"] as const) {
    app.post<{ Params: { id: string } }>(`/admin/lanes/:id/${action}`, async (req, reply) => {
      const id = req.params.id;
      if (!o.laneIds().includes(id)) return reply.code(404).send({ ok: false, code: "GW_LANE_UNKNOWN", lane: id });
      try {
        if (action === "pause") o.actions.pauseLane(id);
        else o.actions.resumeLane(id);
        o.onChanged(id);
        return { ok: true, lane: id, action };
      } catch (e) {
        return failure(reply, e, log, action);
      }
    });
  }
  return app;
}
