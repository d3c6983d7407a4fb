import { GatewayBus } from "../../src/core/bus.js";
import { FakeClock, type Clock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/logger.js";
import type { LaneStatus, LumaFrame, VerdictEvent } from "../../src/core/types.js";
import { parseConfig } from "../../src/config/load.js";
import type { GatewayConfigInput } from "../../src/config/schema.js";
import type { TrustStatus } from "../../src/verify/trust/types.js";
import { GatewayMetrics } from "../../src/output/metrics/index.js";
import { createHttpServer, type CameraInfo, type HttpDeps } from "../../src/output/http/index.js";
import { SYNTHETIC } from "../support/gateway.js";

export const TOKEN = "test-admin-token-0123456789";
/** The read-only listener's access token (dashboard login, /api, snapshots, /metrics). */
export const ACCESS_TOKEN = "test-access-token-abcdefghijklmnop";

/** testConfig with authentication on (as on any non-loopback listener). */
export function authConfig(over: Partial<GatewayConfigInput> = {}) {
  return testConfig({
    server: {
      listen: { host: "127.0.0.1", port: 0 },
      auth: { enabled: true, token: ACCESS_TOKEN },
      admin: { listen: { host: "127.0.0.1", port: 0 }, token: TOKEN, rateLimitPerMinute: 5 },
      ...over.server,
    },
    ...Object.fromEntries(Object.entries(over).filter(([k]) => k !== "server")),
  });
}

export function testConfig(over: Partial<GatewayConfigInput> = {}) {
  return parseConfig({
    gateway: { id: "gw-test", stateDir: "./.tmp/state" },
    server: { listen: { host: "127.0.0.1", port: 0 }, admin: { listen: { host: "127.0.0.1", port: 0 }, token: TOKEN, rateLimitPerMinute: 5 } },
    cameras: [
      { id: "cam-a1", lane: "A", ...SYNTHETIC, width: 64, height: 48 },
      { id: "cam-b1", lane: "B", ...SYNTHETIC, width: 64, height: 48 },
    ],
    lanes: [
      { id: "A", name: "Lane A", passHoldMs: 4000, flagHoldMs: 8000 },
      { id: "B", name: "Lane B", language: "en" },
    ],
    display: { language: "vi", heartbeatMs: 1000 },
    ...over,
  });
}

/** Mutable fake providers: tests change fields and publish on the bus like the lane would. */
export class FakeGateway {
  readonly bus = new GatewayBus((e) => {
    throw e;
  });
  readonly metrics = new GatewayMetrics({ processMetrics: false });
  statuses = new Map<string, LaneStatus>();
  cams: CameraInfo[] = [
    { id: "cam-a1", lane: "A", state: "online", fpsIn: 15, framesDropped: 2, lastFrameAgeMs: 40, reconnectsLastHour: 1, stallsLastHour: 0, url: "rtsp://admin:secretpw@10.0.0.5/stream1" },
    { id: "cam-b1", lane: "B", state: "online", fpsIn: 14.5, framesDropped: 0, lastFrameAgeMs: 60, reconnectsLastHour: 0, stallsLastHour: 0, url: "rtsp://10.0.0.6/stream1" },
  ];
  trustStatus: TrustStatus = {
    version: "tl-42", refreshedAt: Date.UTC(2026, 0, 1) - 60_000, ageMs: 60_000, stale: false,
    sources: [{ source: "https://user:pw@trust.example/list.json", ok: true, keys: 12, refreshedAt: Date.UTC(2026, 0, 1) - 60_000 }],
  };
  frames = new Map<string, LumaFrame>();
  actions: string[] = [];
  seq = new Map<string, number>();

  constructor(readonly clock: Clock = new FakeClock()) {
    for (const lane of ["A", "B"]) this.statuses.set(lane, { lane, state: "idle", problems: [] });
  }

  deps(config = testConfig(), over: Partial<HttpDeps> = {}): HttpDeps {
    return {
      config, logger: silentLogger, bus: this.bus, clock: this.clock, metrics: this.metrics,
      lanes: () => [...this.statuses.values()],
      laneTelemetry: (lane) => (lane === "A" ? { readRate: 0.97, firstSeenToVerdictMs: { p50: 180, p99: 420 }, framesTried: 321, readFailures: 4 } : undefined),
      cameras: () => this.cams,
      trust: () => this.trustStatus,
      latestFrame: (id) => this.frames.get(id),
      admin: {
        reloadConfig: async () => void this.actions.push("reload"),
        refreshTrust: async () => void this.actions.push("refresh"),
        pauseLane: (id) => void this.actions.push(`pause:${id}`),
        resumeLane: (id) => void this.actions.push(`resume:${id}`),
      },
      ...over,
    };
  }

  server(config = testConfig(), over: Partial<HttpDeps> = {}) {
    return createHttpServer(this.deps(config, over));
  }

  verdict(lane: string, verdict: VerdictEvent["verdict"], reason: string, extra: Partial<VerdictEvent> = {}): VerdictEvent {
    const seq = (this.seq.get(lane) ?? 0) + 1;
    this.seq.set(lane, seq);
    const ev: VerdictEvent = {
      id: `gw-test:${lane}:${seq}`, gatewayId: "gw-test", lane, cameraId: `cam-${lane.toLowerCase()}1`, seq,
      at: this.clock.now(), frameToVerdictMs: 42, firstSeenToVerdictMs: 230, payloadHash: "deadbeefdeadbeef",
      verdict, reason, format: "pass", kid: "kid-1", issuer: "VN-MOH", credentialHash: "c0ffeec0ffeec0ff", ...extra,
    };
    this.bus.emit("verdict", ev);
    return ev;
  }

  setStatus(s: LaneStatus): void {
    this.statuses.set(s.lane, s);
    this.bus.emit("lane-status", s);
  }
}

/** Reads SSE frames from a stream as they arrive. */
export class SseReader {
  private buf = "";
  readonly frames: Array<{ event: string; id?: string; data: any; raw: string }> = [];
  private waiters: Array<() => void> = [];
  constructor(stream: NodeJS.ReadableStream) {
    stream.on("data", (chunk: Buffer | string) => {
      this.buf += chunk.toString();
      let i: number;
      while ((i = this.buf.indexOf("\n\n")) >= 0) {
        const raw = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        const f: { event: string; id?: string; data: any; raw: string } = { event: "message", data: undefined, raw };
        for (const line of raw.split("\n")) {
          const m = /^([a-z]+): ?(.*)$/.exec(line);
          if (!m) continue;
          if (m[1] === "event") f.event = m[2]!;
          else if (m[1] === "id") f.id = m[2]!;
          else if (m[1] === "data") f.data = JSON.parse(m[2]!);
          else if (m[1] === "retry") f.event = "retry";
        }
        this.frames.push(f);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }
  of(event: string) {
    return this.frames.filter((f) => f.event === event);
  }
  async waitFor(pred: (f: SseReader["frames"][number]) => boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`SSE frame not seen; got: ${this.frames.map((f) => f.event).join(",")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}
