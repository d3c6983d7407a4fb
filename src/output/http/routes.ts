import type { FastifyInstance, FastifyReply } from "fastify";
import type { Clock } from "../../core/clock.js";
import type { LaneStatus } from "../../core/types.js";
import type { HttpConfig } from "./config-view.js";
import type { TrustStatus } from "../../verify/trust/types.js";
import type { GatewayMetrics } from "../metrics/index.js";
import type { CameraInfo, LaneTelemetry } from "./index.js";
import type { LaneHub } from "./lane-hub.js";
import type { SnapshotCache } from "./snapshot.js";
import { PAGE_HEADERS, type StaticFile } from "./static-files.js";
import { dashboardLang, maskCameraUrl, trustSummary, type FlagBoard, type RecentVerdicts } from "./dashboard-data.js";
import { cameraIsUp, readiness } from "./readiness.js";
import { SseClient } from "./sse.js";
import type { StreamLimits } from "./stream-limits.js";
import type { DisplayRefusalReason } from "./refusals.js";

export interface RouteDeps {
  files: Map<string, StaticFile>;
  hub: LaneHub;
  snapshots: SnapshotCache;
  recent: RecentVerdicts;
  flags: FlagBoard;
  /** Called after an officer acknowledges a FLAG (for the log). */
  onAck: (lane: string, seq: number, by: string) => void;
  cfg: () => HttpConfig;
  clock: Clock;
  lanes: () => LaneStatus[];
  laneTelemetry: (lane: string) => LaneTelemetry | undefined;
  cameras: () => CameraInfo[];
  trust: () => TrustStatus | Error;
  metrics: GatewayMetrics;
  streams: StreamLimits;
  /** Told of each display stream refused (stream limits) or cut off (a slow reader), by lane. */
  displayRefused?: (lane: string, reason: DisplayRefusalReason) => void;
  /** Configured lane ids; anything else is 404 and allocates nothing. */
  laneKnown: (id: string) => boolean;
}

const LANE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CAMERA_ID = LANE_ID;
const FILE_NAME = /^[a-z0-9-]+\.(html|js|css|svg|png)$/;
const started = Date.now();

function sendFile(reply: FastifyReply, f: StaticFile | undefined, ifNoneMatch: string | undefined) {
  if (!f) return reply.code(404).send({ code: "NOT_FOUND" });
  reply.headers({ ...PAGE_HEADERS, "cache-control": "no-cache", etag: f.etag, "content-type": f.type });
  if (ifNoneMatch === f.etag) return reply.code(304).send();
  return reply.send(f.body);
}

const PUBLIC = { config: { public: true } } as const;

/**
 * Read-only routes. Public (no token): the lane display page, its stream and state, static assets,
 * health and readiness. Everything else (dashboard, /api, snapshots, /metrics) passes the guard
 * in auth.ts first.
 */
export function registerPublicRoutes(app: FastifyInstance, d: RouteDeps): void {
  app.get("/", (req, reply) => sendFile(reply, d.files.get("dashboard.html"), req.headers["if-none-match"]));
  app.get<{ Params: { name: string } }>("/static/:name", PUBLIC, (req, reply) =>
    sendFile(reply, FILE_NAME.test(req.params.name) ? d.files.get(req.params.name) : undefined, req.headers["if-none-match"]),
  );
  app.get<{ Params: { id: string } }>("/lanes/:id", PUBLIC, (req, reply) => {
    if (!LANE_ID.test(req.params.id)) return reply.code(404).send({ code: "LANE_ID_INVALID" });
    return sendFile(reply, d.files.get("lane.html"), req.headers["if-none-match"]);
  });
  app.get<{ Params: { id: string } }>("/lanes/:id/state", PUBLIC, (req, reply) => {
    if (!LANE_ID.test(req.params.id)) return reply.code(404).send({ code: "LANE_ID_INVALID" });
    if (!d.laneKnown(req.params.id)) return reply.code(404).send({ code: "LANE_UNKNOWN" });
    return reply.header("cache-control", "no-store").send(d.hub.view(req.params.id));
  });
  app.get<{ Params: { id: string } }>("/lanes/:id/events", PUBLIC, (req, reply) => {
    const lane = req.params.id;
    if (!LANE_ID.test(lane)) return reply.code(404).send({ code: "LANE_ID_INVALID" });
    // Checked before anything is allocated: a flood of made-up lane names costs nothing.
    if (!d.laneKnown(lane)) return reply.code(404).send({ code: "LANE_UNKNOWN" });
    // The stream is public: bound what one client address, and all clients of a lane, can hold open.
    const admission = d.streams.admit(lane, req.ip);
    if (!admission.ok) {
      d.displayRefused?.(lane, admission.code);
      return reply.code(429).header("retry-after", "5").send({ code: admission.code });
    }
    // The stream outlives the handler: fastify hands the socket over and we own it until close.
    reply.hijack();
    const client = new SseClient(reply.raw, () => d.displayRefused?.(lane, "SLOW_CLIENT"));
    client.onClose(admission.release);
    client.open();
    d.hub.subscribe(lane, client);
  });

  app.get<{ Params: { id: string } }>("/cameras/:id/snapshot.jpg", async (req, reply) => {
    const id = req.params.id;
    if (!CAMERA_ID.test(id) || !d.cameras().some((c) => c.id === id)) return reply.code(404).send({ code: "CAMERA_UNKNOWN" });
    const r = await d.snapshots.get(id);
    if (!r.ok) return reply.code(503).header("cache-control", "no-store").send({ code: r.code });
    return reply.headers({ "content-type": "image/jpeg", "cache-control": "no-store", "x-frame-seq": String(r.snapshot.frameSeq) }).send(r.snapshot.jpeg);
  });

  app.get("/api/status", (req, reply) => {
    const cfg = d.cfg();
    const cams = d.cameras();
    const t = d.trust();
    const statuses = d.lanes();
    const laneIds = [...new Set([...cfg.lanes.map((l) => l.id), ...statuses.map((s) => s.lane)])];
    reply.header("cache-control", "no-store");
    return {
      gateway: { id: cfg.gateway.id },
      auth: req.principal ?? "open",
      lang: dashboardLang(cfg.display.dashboardLanguage, req.headers["accept-language"], cfg.display.language),
      serverTime: d.clock.now(),
      ready: readiness(cams, t, statuses),
      lanes: laneIds.map((id) => ({
        ...d.hub.view(id),
        cameras: cams.filter((c) => c.lane === id).map((c) => c.id),
        counts: d.recent.countsFor(id),
        telemetry: d.laneTelemetry(id) ?? null,
        displays: d.hub.clientCount(id),
        lastFlag: d.flags.get(id) ?? null,
      })),
      cameras: cams.map((c) => ({ ...c, url: maskCameraUrl(c.url), up: cameraIsUp(c.state) })),
      trust: t instanceof Error ? { error: "trust status unavailable" } : trustSummary(t),
      recent: d.recent.list(),
    };
  });

  // Behind the guard like all of /api: a session (with a same-origin check) or the token.
  app.post<{ Params: { id: string; seq: string } }>("/api/lanes/:id/flags/:seq/ack", (req, reply) => {
    const { id } = req.params;
    if (!LANE_ID.test(id) || !d.laneKnown(id)) return reply.code(404).send({ ok: false, code: "LANE_UNKNOWN" });
    const seq = /^\d{1,15}$/.test(req.params.seq) ? Number(req.params.seq) : NaN;
    if (!Number.isSafeInteger(seq)) return reply.code(400).send({ ok: false, code: "SEQ_INVALID" });
    const r = d.flags.ack(id, seq);
    if (!r.ok) return reply.code(409).send({ ok: false, code: r.code, current: d.flags.get(id)?.seq ?? null });
    d.onAck(id, seq, `${req.principal ?? "open"}@${req.ip}`);
    return { ok: true, lane: id, seq };
  });

  app.get("/healthz", PUBLIC, (_req, reply) => reply.header("cache-control", "no-store").send({ ok: true, uptimeS: Math.round((Date.now() - started) / 1000) }));
  app.get("/readyz", PUBLIC, (_req, reply) => {
    const r = readiness(d.cameras(), d.trust(), d.lanes());
    return reply.code(r.ready ? 200 : 503).header("cache-control", "no-store").send(r);
  });
  app.get("/metrics", async (_req, reply) => {
    const body = await d.metrics.render();
    return reply.header("content-type", d.metrics.contentType).send(body);
  });
}
