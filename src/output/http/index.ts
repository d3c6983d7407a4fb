import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { GatewayBus } from "../../core/bus.js";
import { systemClock, type Clock } from "../../core/clock.js";
import { moduleLogger, type Logger } from "../../core/logger.js";
import type { LaneStatus, LumaFrame } from "../../core/types.js";
import type { HttpConfig } from "./config-view.js";
import type { TrustStatus } from "../../verify/trust/types.js";
import type { AuthRefusalCount, CameraStats, DisplayRefusalCount, GatewayMetrics, TlsListenerStats } from "../metrics/index.js";
import { buildAdminServer, type AdminActions } from "./admin.js";
import { LaneHub } from "./lane-hub.js";
import { holdMs, laneView, type LaneDisplayConfig, type LaneView } from "./lane-view.js";
import { HEADLINES, oosText } from "./display-text.js";
import { cameraIsUp } from "./readiness.js";
import { FlagBoard, RecentVerdicts, trustSummary } from "./dashboard-data.js";
import { SnapshotCache } from "./snapshot.js";
import { loadStaticFiles } from "./static-files.js";
import { StreamLimits } from "./stream-limits.js";
import { registerGuard } from "./auth.js";
import { loadTlsAtStart, TlsReloader } from "./tls.js";
import { authRequired } from "./server-options.js";
import { registerPublicRoutes } from "./routes.js";
import { ADMIN_REFUSAL_REASONS, AUTH_REFUSAL_REASONS, RefusalTally, type AuthRefusalReason, type DisplayRefusalReason } from "./refusals.js";

/** A camera as the dashboard shows it: what /metrics needs, plus its (masked) URL. */
export interface CameraInfo extends CameraStats {
  /** Shown masked; never with credentials. */
  url: string;
}

export interface LaneTelemetry {
  readRate?: number;
  firstSeenToVerdictMs?: { p50: number; p99: number };
  framesTried?: number;
  readFailures?: number;
}

export interface HttpDeps {
  /** The config, or a getter so a reload is seen (listen addresses still need a restart). */
  config: HttpConfig | (() => HttpConfig);
  logger: Logger;
  bus: GatewayBus;
  clock?: Clock;
  lanes: () => LaneStatus[];
  laneTelemetry?: (lane: string) => LaneTelemetry | undefined;
  cameras: () => CameraInfo[];
  trust: () => TrustStatus;
  /** Must return a frame whose buffer is not transferred to a worker (a copy is fine, ~1/s). */
  latestFrame: (cameraId: string) => LumaFrame | undefined;
  admin: AdminActions;
  metrics: GatewayMetrics;
  /** Static asset directory override (tests). */
  staticDir?: string;
}

export interface HttpServer {
  listen(): Promise<{ publicUrl: string; adminUrl?: string }>;
  close(): Promise<void>;
  /** The read-only app, for `inject` in tests. */
  readonly app: FastifyInstance;
  /** The admin app, built on first use; undefined when no token is configured. */
  adminApp(): Promise<FastifyInstance | undefined>;
  /** Open display streams per lane, and how many lanes and client addresses the server holds state for. */
  displays(): DisplayStats;
  /** The certificate each TLS listener serves and its failed reloads; empty without TLS. */
  tls(): TlsListenerStats[];
  /** Requests refused by the `public` and `admin` listeners' guards since start, by reason. */
  authRefusals(): AuthRefusalCount[];
  /** Display streams refused or cut off since start, by lane and reason. */
  displayRefusals(): DisplayRefusalCount[];
  /** After a reload changed `display.heartbeatMs`: a lowered interval is used from now on. */
  heartbeatChanged(): void;
}

export interface DisplayStats {
  /** Lane displays (SSE streams) connected now, per configured lane (for /metrics and MQTT stats). */
  streams: Record<string, number>;
  trackedLanes: number;
  trackedClients: number;
}

export const LANE_ID = /^[A-Za-z0-9_-]{1,64}$/;

function urlOf(addr: AddressInfo, scheme = "http"): string {
  const host = addr.address === "0.0.0.0" ? "127.0.0.1" : addr.address === "::" ? "::1" : addr.address;
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
}

/** Providers are other stages' code: a throw must degrade the display, never crash the server. */
function safe<T>(fn: () => T, fallback: T, log: Logger, what: string): T {
  try {
    return fn();
  } catch (e) {
    log.warn({ err: e instanceof Error ? e.message : String(e), provider: what }, "provider failed");
    return fallback;
  }
}

export function createHttpServer(deps: HttpDeps): HttpServer {
  const log = moduleLogger(deps.logger, "http");
  const clock = deps.clock ?? systemClock;
  const cfg = typeof deps.config === "function" ? deps.config : () => deps.config as HttpConfig;
  const files = loadStaticFiles(deps.staticDir);
  const recent = new RecentVerdicts();
  const flags = new FlagBoard();
  const snapshots = new SnapshotCache({ latestFrame: deps.latestFrame, clock });
  if (!deps.metrics.hasCollectors()) deps.metrics.setCollectors({ cameras: deps.cameras, trust: deps.trust, lanes: deps.lanes });

  const laneConfig = (id: string): LaneDisplayConfig | undefined => cfg().lanes.find((l) => l.id === id);
  const cameras = () => safe(deps.cameras, [], log, "cameras");
  const trust = (): TrustStatus | Error => safe<TrustStatus | Error>(deps.trust, new Error("trust provider failed"), log, "trust");

  const compose = (lane: string, seen: Parameters<typeof laneView>[0]["seen"], endedSeq: number | undefined): LaneView => {
    const lc = laneConfig(lane);
    const overlay: string[] = [];
    if (!lc) overlay.push("UNKNOWN_LANE");
    const status = safe(deps.lanes, [], log, "lanes").find((s) => s.lane === lane);
    const cams = cameras().filter((c) => c.lane === lane);
    // Same codes as the lane's own problems (src/lane/state.ts), so a screen never lists one twice.
    // A starting lane's cameras are not down yet: the lane's STARTING (out of service too) says why.
    const starting = status?.problems.includes("STARTING") ?? false;
    if (!starting && cams.length > 0 && !cams.some((c) => cameraIsUp(c.state))) overlay.push("CAMERAS_DOWN");
    // With staleAction "flag" the lane keeps working and flags each verdict TRUST_STALE instead.
    if (cfg().trust.staleAction === "out-of-service") {
      const t = trust();
      if (t instanceof Error || t.stale) overlay.push("TRUST_STALE");
    }
    if (cfg().trust.clockAction === "out-of-service") {
      const t = trust();
      if (!(t instanceof Error) && t.clockUntrusted) overlay.push("CLOCK_UNTRUSTED");
    }
    return laneView({
      lane: lc ?? { id: lane, passHoldMs: 4000, flagHoldMs: 8000 },
      defaultLang: cfg().display.language,
      status,
      seen,
      overlay,
      nowMono: clock.monotonic(),
      ...(endedSeq !== undefined ? { endedSeq } : {}),
    });
  };

  const authRefusals = new RefusalTally<AuthRefusalReason>();
  authRefusals.seed("public", AUTH_REFUSAL_REASONS);
  const displayRefusals = new RefusalTally<DisplayRefusalReason>();
  const streams = new StreamLimits({ perLane: () => cfg().display.maxStreamsPerLane, perClient: () => cfg().display.maxStreamsPerClient });
  const hub = new LaneHub({
    clock,
    heartbeatMs: () => cfg().display.heartbeatMs,
    compose,
    holdFor: (ev) => holdMs(laneConfig(ev.lane) ?? { id: ev.lane, passHoldMs: 4000, flagHoldMs: 8000 }, ev.verdict),
  });
  const unsubscribe = [
    deps.bus.on("verdict", (ev) => {
      recent.add(ev);
      if (laneConfig(ev.lane)) flags.add(ev);
      hub.onVerdict(ev);
    }),
    deps.bus.on("lane-status", (s) => hub.onStatus(s)),
  ];
  hub.start();

  // TLS material is read at start (a missing file is a start-up error); later changes are reloaded.
  const tls = cfg().server.tls;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    bodyLimit: 16 * 1024,
    ...(tls ? { https: loadTlsAtStart(tls) } : {}),
  }) as unknown as FastifyInstance;
  const tlsReloader = tls
    ? new TlsReloader({ files: tls, logger: log, apply: (ctx) => (app.server as unknown as HttpsServer).setSecureContext(ctx) })
    : undefined;
  registerGuard(app, {
    allowedHosts: () => cfg().server.allowedHosts,
    token: () => (authRequired(cfg().server) ? cfg().server.auth.token : undefined),
    sessionTtlS: () => cfg().server.auth.sessionTtlS,
    now: () => clock.now(),
    secure: tls !== undefined,
    loginPage: files.get("login.html"),
    logger: log,
    refused: (reason) => authRefusals.add("public", reason),
  });
  app.addHook("onResponse", async (req, reply) => {
    const line = { method: req.method, url: req.url.split("?")[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) log.warn(line, "request failed");
    else log.debug(line, "request");
  });
  registerPublicRoutes(app, {
    files, hub, snapshots, recent, flags, cfg, clock,
    onAck: (lane, seq, by) => log.info({ lane, seq, by }, "FLAG acknowledged"),
    lanes: () => safe(deps.lanes, [], log, "lanes"),
    laneTelemetry: (id) => (deps.laneTelemetry ? safe(() => deps.laneTelemetry!(id), undefined, log, "laneTelemetry") : undefined),
    cameras, trust, metrics: deps.metrics, streams,
    displayRefused: (lane, reason) => displayRefusals.add(lane, reason),
    laneKnown: (id) => laneConfig(id) !== undefined,
  });

  let adminPromise: Promise<FastifyInstance | undefined> | undefined;
  const adminApp = () =>
    (adminPromise ??= (async () => {
      const a = cfg().server.admin;
      if (!a.token) return undefined;
      authRefusals.seed("admin", ADMIN_REFUSAL_REASONS);
      return buildAdminServer({
        token: a.token,
        rateLimitPerMinute: a.rateLimitPerMinute,
        actions: deps.admin,
        laneIds: () => cfg().lanes.map((l) => l.id),
        trustSummary: () => {
          const t = trust();
          return t instanceof Error ? { error: "trust status unavailable" } : trustSummary(t);
        },
        onChanged: (lane) => (lane ? hub.refresh(lane) : hub.tick()),
        logger: moduleLogger(deps.logger, "admin"),
        refused: (reason) => authRefusals.add("admin", reason),
      });
    })());

  let closed = false;
  return {
    app,
    adminApp,
    displays: () => {
      const lanes = hub.trackedLanes();
      return {
        streams: Object.fromEntries(cfg().lanes.map((l) => [l.id, hub.clientCount(l.id)])),
        trackedLanes: Math.max(lanes.length, streams.size().lanes),
        trackedClients: streams.size().clients,
      };
    },
    tls: () => (tlsReloader ? [{ listener: "public", ...tlsReloader.state() }] : []),
    authRefusals: () => authRefusals.list().map(({ key, reason, count }) => ({ listener: key, reason, count })),
    displayRefusals: () => displayRefusals.list().map(({ key, reason, count }) => ({ lane: key, reason, count })),
    heartbeatChanged: () => hub.heartbeatChanged(),
    async listen() {
      const s = cfg().server;
      await app.listen({ host: s.listen.host, port: s.listen.port });
      tlsReloader?.start();
      const publicUrl = urlOf(app.server.address() as AddressInfo, tls ? "https" : "http");
      const admin = await adminApp();
      let adminUrl: string | undefined;
      if (admin) {
        await admin.listen({ host: s.admin.listen.host, port: s.admin.listen.port });
        adminUrl = urlOf(admin.server.address() as AddressInfo);
      } else {
        // A deliberate choice in the config (the demo has no admin API), not a fault: info, so
        // the demo's first line is the URLs, not a JSON warning.
        log.info("admin API disabled: set server.admin.token to enable it");
      }
      log.info({ publicUrl, adminUrl }, "http listening");
      return { publicUrl, ...(adminUrl ? { adminUrl } : {}) };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const u of unsubscribe) u();
      tlsReloader?.stop();
      // Screens learn the gateway is going away at once instead of after missed heartbeats.
      hub.close((lane) => ({
        ...compose(lane, [], undefined),
        state: "out-of-service",
        problems: ["GATEWAY_STOPPING"],
        verdict: undefined,
        headline: HEADLINES.oos,
        detail: HEADLINES.oosHint,
        cause: oosText("GATEWAY_STOPPING"),
      }));
      const admin = adminPromise ? await adminPromise : undefined;
      await Promise.all([app.close(), admin?.close()]);
    },
  };
}

export { GatewayMetrics } from "../metrics/index.js";
