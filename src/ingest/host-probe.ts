import { connect } from "node:net";
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

/**
 * A TCP connect to the RTSP port: true when something accepts. It costs one SYN and closes at
 * once, so it can run a few times a second while a camera is away without burdening anything,
 * where an ffmpeg start costs ~0.3 s of CPU and its own backoff.
 */
export function tcpProbe(timeoutMs = 1000): HostProbe {
  return ({ host, port }) =>
    new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(timeoutMs, () => finish(false));
      s.once("connect", () => finish(true));
      s.once("error", () => finish(false));
    });
}

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
