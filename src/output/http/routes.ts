import type { FastifyInstance, FastifyReply } from "fastify";
import type { Clock } from "../../core/clock.js";
import type { LaneStatus } from "../../core/types.js";
import type { GatewayConfig } from "../../config/schema.js";
import type { TrustStatus } from "../../verify/trust/types.js";
import type { GatewayMetrics } from "../metrics/index.js";
import type { CameraInfo, LaneTelemetry } from "./index.js";
import type { LaneHub } from "./lane-hub.js";
import type { SnapshotCache } from "./snapshot.js";
import { PAGE_HEADERS, type StaticFile } from "./static-files.js";
import { maskCameraUrl, trustSummary, type RecentVerdicts } from "./dashboard-data.js";
import { readiness } from "./readiness.js";
import { SseClient } from "./sse.js";

export interface RouteDeps {
  files: Map<string, StaticFile>;
  hub: LaneHub;
  snapshots: SnapshotCache;
  recent: RecentVerdicts;
  cfg: () => GatewayConfig;
  clock: Clock;
  lanes: () => LaneStatus[];
  laneTelemetry: (lane: string) => LaneTelemetry | undefined;
  cameras: () => CameraInfo[];
  trust: () => TrustStatus | Error;
  metrics: GatewayMetrics;
}

const LANE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CAMERA_ID = LANE_ID;
const FILE_NAME = /^[a-z0-9-]+\.(html|js|css|svg|png)$/;
const started = Date.now();
/** Far above any real checkpoint (a screen or two per lane plus dashboards). */
export const MAX_SSE_CLIENTS = 256;

function sendFile(reply: FastifyReply, f: StaticFile | undefined, ifNoneMatch: string | undefined) {
  if (!f) return reply.code(404).send({ code: "NOT_FOUND" });
  reply.headers({ ...PAGE_HEADERS, "cache-control": "no-cache", etag: f.etag, "content-type": f.type });
  if (ifNoneMatch === f.etag) return reply.code(304).send();
  return reply.send(f.body);
}

/** Read-only routes: displays, dashboard, health, metrics. Nothing here needs or accepts a token. */
export function registerPublicRoutes(app: FastifyInstance, d: RouteDeps): void {
  app.get("/", (req, reply) => sendFile(reply, d.files.get("dashboard.html"), req.headers["if-none-match"]));
  app.get<{ Params: { name: string } }>("/static/:name", (req, reply) =>
    sendFile(reply, FILE_NAME.test(req.params.name) ? d.files.get(req.params.name) : undefined, req.headers["if-none-match"]),
  );
  app.get<{ Params: { id: string } }>("/lanes/:id", (req, reply) => {
    if (!LANE_ID.test(req.params.id)) return reply.code(404).send({ code: "LANE_ID_INVALID" });
    return sendFile(reply, d.files.get("lane.html"), req.headers["if-none-match"]);
  });
  app.get<{ Params: { id: string } }>("/lanes/:id/state", (req, reply) => {
    if (!LANE_ID.test(req.params.id)) return reply.code(404).send({ code: "LANE_ID_INVALID" });
    return reply.header("cache-control", "no-store").send(d.hub.view(req.params.id));
  });
  app.get<{ Params: { id: string } }>("/lanes/:id/events", (req, reply) => {
    if (!LANE_ID.test(req.params.id)) return reply.code(404).send({ code: "LANE_ID_INVALID" });
    // The display port is read-only but open: bound what one misbehaving client can hold open.
    if (d.hub.clientCount() >= MAX_SSE_CLIENTS) return reply.code(503).header("retry-after", "5").send({ code: "TOO_MANY_STREAMS" });
    // The stream outlives the handler: fastify hands the socket over and we own it until close.
    reply.hijack();
    const client = new SseClient(reply.raw);
    client.open();
    d.hub.subscribe(req.params.id, client);
  });

  app.get<{ Params: { id: string } }>("/cameras/:id/snapshot.jpg", async (req, reply) => {
    const id = req.params.id;
    if (!CAMERA_ID.test(id) || !d.cameras().some((c) => c.id === id)) return reply.code(404).send({ code: "CAMERA_UNKNOWN" });
    const r = await d.snapshots.get(id);
    if (!r.ok) return reply.code(503).header("cache-control", "no-store").send({ code: r.code });
    return reply.headers({ "content-type": "image/jpeg", "cache-control": "no-store", "x-frame-seq": String(r.snapshot.frameSeq) }).send(r.snapshot.jpeg);
  });

  app.get("/api/status", (_req, reply) => {
    const cfg = d.cfg();
    const cams = d.cameras();
    const t = d.trust();
    const statuses = d.lanes();
    const laneIds = [...new Set([...cfg.lanes.map((l) => l.id), ...statuses.map((s) => s.lane)])];
    reply.header("cache-control", "no-store");
    return {
      gateway: { id: cfg.gateway.id },
      serverTime: d.clock.now(),
      ready: readiness(cams, t, statuses),
      lanes: laneIds.map((id) => ({
        ...d.hub.view(id),
        cameras: cams.filter((c) => c.lane === id).map((c) => c.id),
        counts: d.recent.countsFor(id),
        telemetry: d.laneTelemetry(id) ?? null,
        displays: d.hub.clientCount(id),
      })),
      cameras: cams.map((c) => ({ ...c, url: maskCameraUrl(c.url), up: c.state === "online" })),
      trust: t instanceof Error ? { error: "trust status unavailable" } : trustSummary(t),
      recent: d.recent.list(),
    };
  });

  app.get("/healthz", (_req, reply) => reply.header("cache-control", "no-store").send({ ok: true, uptimeS: Math.round((Date.now() - started) / 1000) }));
  app.get("/readyz", (_req, reply) => {
    const r = readiness(d.cameras(), d.trust(), d.lanes());
    return reply.code(r.ready ? 200 : 503).header("cache-control", "no-store").send(r);
  });
  app.get("/metrics", async (_req, reply) => {
    const body = await d.metrics.render();
    return reply.header("content-type", d.metrics.contentType).send(body);
  });
}
