import { isIP } from "node:net";
import { z } from "zod";

export const listenSchema = z.strictObject({
  host: z.string().min(1).describe("Address to bind."),
  port: z.number().int().min(0).max(65535).describe("TCP port (0 picks a free one)."),
});

/** Only these binds keep the listener unreachable from the network. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

export const authSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .optional()
      .describe(
        "Require a token or an officer session for the dashboard, /api/*, snapshots and /metrics. Default: on when server.auth.token is set or " +
          "server.listen.host is not loopback; it can be turned off only on a loopback listener.",
      ),
    token: z
      .string()
      .min(24)
      .optional()
      .describe("Access token (use ${ENV}): `Authorization: Bearer <token>` for /api/* and /metrics (Prometheus `authorization.credentials`), and the password of the dashboard login form."),
    sessionTtlS: z.number().int().min(60).max(7 * 86400).default(12 * 3600).describe("How long a dashboard login lasts (seconds); a gateway restart also ends it."),
  })
  .describe("Authentication of the read-only listener. The lane display page and its event stream stay public (no payloads, no images).");

export const tlsSchema = z
  .strictObject({
    cert: z.string().min(1).describe("PEM certificate chain file; re-read when it changes (no restart)."),
    key: z.string().min(1).describe("PEM private key file; re-read when it changes."),
  })
  .describe("Serve the read-only listener over HTTPS.");

export const serverSection = z
  .strictObject({
    listen: listenSchema.default({ host: "127.0.0.1", port: 8080 }).describe("Lane displays, dashboard, health and metrics."),
    auth: authSchema.prefault({}),
    allowedHosts: z
      .array(z.string().min(1).regex(/^[A-Za-z0-9.-]+$/, "a host name, without port or scheme"))
      .default([])
      .describe(
        "Host names browsers may use to reach the listener (refuses DNS rebinding). Always allowed: localhost, IP addresses and this machine's host name.",
      ),
    tls: tlsSchema.optional(),
    admin: z
      .strictObject({
        listen: listenSchema.default({ host: "127.0.0.1", port: 8081 }).describe("Admin API address; keep it on loopback or a management network."),
        token: z.string().min(16).optional().describe("Bearer token for the admin API; use ${ENV}. Without it the admin API is disabled."),
        rateLimitPerMinute: z
          .number()
          .int()
          .min(1)
          .default(30)
          .describe("Requests per minute per client on admin endpoints; requests without the right token have their own budget, so they cannot lock the operator out."),
      })
      .default({ listen: { host: "127.0.0.1", port: 8081 }, rateLimitPerMinute: 30 })
      .describe("Admin API (reload, refresh trust, pause lanes)."),
  })
  .superRefine((s, ctx) => {
    const loopback = isLoopbackHost(s.listen.host);
    if (s.auth.enabled === false && !loopback) {
      ctx.addIssue({
        code: "custom",
        path: ["auth", "enabled"],
        message: `authentication can be off only on a loopback listener, and server.listen.host is ${s.listen.host}: set server.auth.token or bind 127.0.0.1`,
        input: false,
      });
    } else if (authRequired(s) && !s.auth.token) {
      ctx.addIssue({
        code: "custom",
        path: ["auth", "token"],
        message: `required: server.listen.host ${s.listen.host} is reachable from the network, so the dashboard, /api, snapshots and /metrics need a token (use \${ENV})`,
        input: undefined,
      });
    }
  })
  .describe("HTTP listeners.");

/**
 * Whether the read-only listener requires authentication: as set, else on off loopback, and on
 * wherever a token is configured. A loopback listener with a token is most often behind a reverse
 * proxy on the same host (TLS, a public name): there every request arrives from 127.0.0.1, and
 * leaving it open would serve snapshots of travellers to the network despite the token.
 */
export function authRequired(s: { listen: { host: string }; auth: { enabled?: boolean | undefined; token?: string | undefined } }): boolean {
  return s.auth.enabled ?? (!isLoopbackHost(s.listen.host) || s.auth.token !== undefined);
}

export type ServerConfig = z.output<typeof serverSection>;
