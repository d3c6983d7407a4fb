import { z } from "zod";

export const listenSchema = z.strictObject({
  host: z.string().min(1).describe("Address to bind."),
  port: z.number().int().min(0).max(65535).describe("TCP port (0 picks a free one)."),
});

export const serverSection = z
  .strictObject({
    listen: listenSchema.default({ host: "127.0.0.1", port: 8080 }).describe("Lane displays, dashboard, health and metrics (read-only)."),
    admin: z
      .strictObject({
        listen: listenSchema.default({ host: "127.0.0.1", port: 8081 }).describe("Admin API address; keep it on loopback or a management network."),
        token: z.string().min(16).optional().describe("Bearer token for the admin API; use ${ENV}. Without it the admin API is disabled."),
        rateLimitPerMinute: z.number().int().min(1).default(30).describe("Requests per minute per client on admin endpoints."),
      })
      .default({ listen: { host: "127.0.0.1", port: 8081 }, rateLimitPerMinute: 30 })
      .describe("Admin API (reload, refresh trust, pause lanes)."),
  })
  .describe("HTTP listeners.");
