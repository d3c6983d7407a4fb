import { lookup } from "node:dns/promises";
import { connect, isIP, type Socket } from "node:net";
import { systemClock, type Clock } from "../core/clock.js";
import type { CameraConfig } from "./types.js";

/** Where a camera's RTSP server listens: the host and port ffmpeg will connect to. */
export interface ProbeTarget {
  host: string;
  port: number;
}

/** Decides whether the camera's host answers; may answer synchronously (tests) or not (TCP). */
export type HostProbe = (target: ProbeTarget) => boolean | Promise<boolean>;

const DEFAULT_PORTS: Record<string, number> = { "rtsp:": 554, "rtsps:": 322 };

/** The RTSP host and port of a camera; undefined for sources that have no server (file) or an unparsable URL. */
export function probeTarget(cam: Pick<CameraConfig, "source" | "url">): ProbeTarget | undefined {
  if (cam.source !== "rtsp") return undefined;
  const raw = cam.url;
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    const port = u.port ? Number(u.port) : DEFAULT_PORTS[u.protocol.toLowerCase()];
    const host = u.hostname.replace(/^\[|\]$/g, "");
    if (!host || !port) return undefined;
    return { host, port };
  } catch {
    return undefined;
  }
}

/** Resolves a host name to one address. */
export type HostLookup = (host: string) => Promise<string>;

/** getaddrinfo, as ffmpeg resolves the name: /etc/hosts, DNS, mDNS, whatever nsswitch says. */
const systemLookup: HostLookup = async (host) => (await lookup(host)).address;

export interface TcpProbeOptions {
  /** The whole probe, lookup included, answers "down" after this long. */
  timeoutMs?: number;
  lookup?: HostLookup;
  clock?: Clock;
}

/**
 * A TCP connect to the RTSP port: true when something accepts. It costs one SYN and closes at
 * once, so it can run a few times a second while a camera is away without burdening anything,
 * where an ffmpeg start costs ~0.3 s of CPU and its own backoff.
 *
 * At most one lookup per host name is in flight: a probe while one is pending waits for that
 * one. getaddrinfo runs in libuv's threadpool (4 threads) and cannot be cancelled; for a name
 * whose DNS does not answer it takes ~10 s, so a fresh lookup per probe (every ~1.2 s) queued
 * without bound and held up every other lookup of the gateway (trust, Redis, MQTT by name) for
 * minutes. Not c-ares (dns.Resolver, cancellable, off the threadpool): it reads neither
 * /etc/hosts nor mDNS, so a camera ffmpeg can reach by name would be probed as down for ever.
 */
export function tcpProbe(opts: TcpProbeOptions = {}): HostProbe {
  const { timeoutMs = 1000, lookup: resolveName = systemLookup, clock = systemClock } = opts;
  const pending = new Map<string, Promise<string>>();
  const address = (host: string): Promise<string> => {
    if (isIP(host)) return Promise.resolve(host);
    let p = pending.get(host);
    if (!p) {
      p = resolveName(host);
      pending.set(host, p);
      const settled = () => void pending.delete(host);
      p.then(settled, settled);
    }
    return p;
  };
  return ({ host, port }) =>
    new Promise<boolean>((resolve) => {
      let done = false;
      let socket: Socket | undefined;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        socket?.destroy();
        resolve(ok);
      };
      const timer = clock.setTimeout(() => finish(false), timeoutMs, "ingest.probe-timeout");
      address(host).then(
        (ip) => {
          if (done) return;
          socket = connect({ host: ip, port });
          socket.once("connect", () => finish(true));
          socket.once("error", () => finish(false));
        },
        () => finish(false),
      );
    });
}

/** The probe of every camera without an injected one: shared, so cameras behind one name (NVR channels) share its lookup. */
export const defaultHostProbe: HostProbe = tcpProbe();

/** Asks the probe once; a probe that throws or rejects counts as a host that does not answer. */
export function askHost(probe: HostProbe, target: ProbeTarget, done: (up: boolean) => void): void {
  let r: boolean | Promise<boolean>;
  try {
    r = probe(target);
  } catch {
    r = false;
  }
  if (typeof r === "boolean") done(r);
  else r.then(done, () => done(false));
}
