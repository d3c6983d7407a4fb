import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { hostname } from "node:os";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import rateLimit from "@fastify/rate-limit";
import type { Logger } from "../../core/logger.js";
import { bearerMatches } from "./admin.js";
import { RefusalLog, skippedField, type AuthRefusalReason } from "./refusals.js";
import { PAGE_HEADERS, type StaticFile } from "./static-files.js";

export const SESSION_COOKIE = "cgw_session";
/** Per client address; an officer mistypes a few times, a guesser needs billions. */
export const LOGIN_ATTEMPTS_PER_MINUTE = 10;

/**
 * Officer sessions: a cookie holding its expiry and a nonce, HMAC-signed with a key made at
 * start-up. Nothing is stored server-side, so sessions cost no memory and cannot be enumerated;
 * a restart (new key) or the expiry ends every session. The token itself never goes in a cookie.
 */
export class SessionSigner {
  private readonly key = randomBytes(32);

  issue(nowMs: number, ttlS: number): { value: string; maxAgeS: number } {
    const body = `v1.${Math.floor(nowMs / 1000) + ttlS}.${randomBytes(12).toString("base64url")}`;
    return { value: `${body}.${this.mac(body)}`, maxAgeS: ttlS };
  }

  verify(value: string | undefined, nowMs: number): boolean {
    if (!value || value.length > 200) return false;
    const i = value.lastIndexOf(".");
    if (i < 0) return false;
    const body = value.slice(0, i);
    const want = Buffer.from(this.mac(body));
    const got = Buffer.from(value.slice(i + 1));
    if (got.length !== want.length || !timingSafeEqual(got, want)) return false;
    const m = /^v1\.(\d{1,12})\./.exec(body);
    return m !== null && Number(m[1]) * 1000 > nowMs;
  }

  private mac(body: string): string {
    return createHmac("sha256", this.key).update(body).digest("base64url");
  }
}

/** One cookie's value from a Cookie header (no library: we read exactly one cookie we set ourselves). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie("", 0, secure);
}

/** The token, compared in constant time (both sides hashed to equal length first). */
export function tokenMatches(given: string | undefined, token: string): boolean {
  return bearerMatches(`Bearer ${given ?? ""}`, token);
}

/** The host name of a Host header, lower-case, without port or IPv6 brackets; undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/.exec(header.trim());
  if (!m) return undefined;
  return (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, "");
}

/**
 * DNS rebinding needs a name the attacker controls resolving to this gateway, so a browser sends
 * that name as Host. IP literals cannot be rebound, and loopback names and this machine's own name
 * are ours; any other name must be listed in server.allowedHosts.
 */
export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  const h = hostName(header);
  if (!h) return false;
  if (isIP(h) !== 0) return true;
  const own = hostname().toLowerCase();
  const names = ["localhost", own, `${own}.local`, ...allowed.map((a) => a.toLowerCase().replace(/\.$/, ""))];
  return names.includes(h) || h.endsWith(".localhost");
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without a token or session (the lane display, its stream, health, static assets, login). */
    public?: boolean;
  }
}

export interface GuardOptions {
  /** Read per request, so a reload of allowedHosts applies at once. */
  allowedHosts: () => readonly string[];
  /** undefined: authentication is off (allowed only on a loopback listener, checked by the config schema). */
  token: () => string | undefined;
  sessionTtlS: () => number;
  now: () => number;
  secure: boolean;
  loginPage: StaticFile | undefined;
  logger: Logger;
  /** Told of every refusal (counted for /metrics: a guessed token otherwise shows only in the log). */
  refused?: (reason: AuthRefusalReason) => void;
}

/** How a request was authenticated, if at all. */
export type Principal = "token" | "session" | "open";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const LOGIN_PAGE_HEADERS = { ...PAGE_HEADERS, "content-security-policy": PAGE_HEADERS["content-security-policy"].replace("form-action 'none'", "form-action 'self'") };

/**
 * The read-only listener's gate: the Host allowlist for every request, then a bearer token or an
 * officer session for everything not marked public. Login is a form that exchanges the token for
 * an HttpOnly, SameSite=Strict session cookie, so the token is typed once and never held by page
 * script; state-changing requests made with the cookie must also come from this origin.
 */
export function registerGuard(app: FastifyInstance, o: GuardOptions): void {
  const signer = new SessionSigner();
  const log = o.logger;
  const refused = (reason: AuthRefusalReason) => o.refused?.(reason);
  // The listener faces the network: a flood of foreign Hosts or failed logins must not bury the log.
  const logged = new RefusalLog(o.now);

  app.addHook("onRequest", async (req, reply) => {
    if (!hostAllowed(req.headers.host, o.allowedHosts())) {
      refused("bad-host");
      const skipped = logged.take("bad-host");
      if (skipped !== undefined) log.warn({ host: String(req.headers.host ?? "").slice(0, 100), remote: req.ip, url: req.url.split("?")[0], ...skippedField(skipped) }, "request refused: Host not allowed (DNS rebinding?)");
      return reply.code(421).header("cache-control", "no-store").send({ code: "HOST_NOT_ALLOWED" });
    }
    const token = o.token();
    if (token === undefined) {
      // No token (allowed on loopback only): a page the officer's browser opens could still POST
      // here, e.g. acknowledge a FLAG. Browsers say where a request comes from; tools do not.
      if (!["GET", "HEAD"].includes(req.method) && fromAnotherSite(req.headers, o.secure)) {
        refused("bad-origin");
        return reply.code(403).send({ code: "ORIGIN_REFUSED" });
      }
      req.principal = "open";
      return;
    }
    if (req.routeOptions.config.public) return;
    if (req.headers.authorization !== undefined) {
      if (bearerMatches(req.headers.authorization, token)) {
        req.principal = "token";
        return;
      }
      refused("bad-token");
    } else if (signer.verify(cookieValue(req.headers.cookie, SESSION_COOKIE), o.now())) {
      if (!["GET", "HEAD"].includes(req.method) && !sameOrigin(req.headers, o.secure)) {
        refused("bad-origin");
        return reply.code(403).send({ code: "ORIGIN_REFUSED" });
      }
      req.principal = "session";
      return;
    } else {
      // No token and no valid session (an expired one included).
      refused("no-token");
    }
    if (req.method === "GET" && (req.url === "/" || req.url.startsWith("/?"))) return reply.code(303).header("location", "/login").send();
    return reply
      .code(401)
      .headers({ "www-authenticate": 'Bearer realm="checkpoint-gateway"', "cache-control": "no-store" })
      .send({ code: "UNAUTHORIZED" });
  });

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get("/login", { config: { public: true } }, (req, reply) => {
    if (!o.loginPage) return reply.code(404).send({ code: "NOT_FOUND" });
    if (o.token() === undefined) return reply.code(303).header("location", "/").send();
    return reply.headers({ ...LOGIN_PAGE_HEADERS, "cache-control": "no-store", "content-type": o.loginPage.type }).send(o.loginPage.body);
  });

  // Login attempts are throttled per client address (the route lives in its own plugin scope so the
  // limiter is registered before it; fastify loads plugins in order at ready()).
  void app.register(async (scope) => {
    await scope.register(rateLimit, { global: false });
    scope.post<{ Body: { token?: unknown } }>("/login", { config: { public: true, rateLimit: { max: LOGIN_ATTEMPTS_PER_MINUTE, timeWindow: 60_000 } } }, loginHandler);
  });

  function loginHandler(req: FastifyRequest<{ Body: { token?: unknown } }>, reply: FastifyReply) {
    const token = o.token();
    if (token === undefined) return reply.code(303).header("location", "/").send();
    // A login form posted from another site would log the officer into the attacker's idea of a session: refuse it.
    if (!sameOrigin(req.headers, o.secure)) {
      refused("bad-origin");
      return reply.code(403).send({ code: "ORIGIN_REFUSED" });
    }
    const given = typeof req.body?.token === "string" ? req.body.token : undefined;
    if (!tokenMatches(given, token)) {
      refused("login-failed");
      const skipped = logged.take("login-failed");
      if (skipped !== undefined) log.warn({ remote: req.ip, ...skippedField(skipped) }, "dashboard login refused (wrong token)");
      return reply.code(303).header("location", "/login?failed=1").send();
    }
    const s = signer.issue(o.now(), o.sessionTtlS());
    log.info({ remote: req.ip }, "dashboard login");
    return reply.code(303).headers({ "set-cookie": sessionCookie(s.value, s.maxAgeS, o.secure), location: "/", "cache-control": "no-store" }).send();
  }

  app.post("/logout", { config: { public: true } }, (req, reply) => {
    if (!sameOrigin(req.headers, o.secure)) return reply.code(403).send({ code: "ORIGIN_REFUSED" });
    return reply.code(303).headers({ "set-cookie": clearedSessionCookie(o.secure), location: "/login" }).send();
  });
}

/**
 * The request comes from this listener's own pages: its Origin is this origin, or (when a browser
 * sends `Origin: null`) the browser itself says so in Sec-Fetch-Site, which page script cannot set.
 * A request with neither is refused: browsers send at least one on every POST.
 */
/** A browser request made by another site's page (a request without Origin or Sec-Fetch-Site is not a browser's: curl, scripts). */
export function fromAnotherSite(h: { origin?: string | undefined; host?: string | undefined; "sec-fetch-site"?: string | string[] | undefined }, secure: boolean): boolean {
  if (h.origin === undefined && h["sec-fetch-site"] === undefined) return false;
  return !sameOrigin(h, secure);
}

export function sameOrigin(h: { origin?: string | undefined; host?: string | undefined; "sec-fetch-site"?: string | string[] | undefined }, secure: boolean): boolean {
  if (!h.host) return false;
  if (h.origin && h.origin !== "null") return h.origin.toLowerCase() === `${secure ? "https" : "http"}://${h.host.toLowerCase()}`;
  return h["sec-fetch-site"] === "same-origin";
}
