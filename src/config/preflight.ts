import { constants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { createServer, connect } from "node:net";
import { delimiter, dirname, join, resolve } from "node:path";
import type { GatewayConfig } from "./schema.js";
import { ConfigError } from "./load.js";
import { parseRootKey } from "../verify/trust/keys.js";
import { secretMasker } from "../core/mask.js";
import { describeHolder, lockHolder } from "../app/state-lock.js";
import { describeErrno, probeWritable, type ProbeFs } from "./state-probe.js";

/**
 * The checks `run` would make before anything starts, without starting cameras: files present and
 * readable, keys parseable, URL schemes right, ports free, lanes with cameras. `config check` prints
 * them; `run` refuses to start on a problem. With `connect`, Redis, MQTT and the cameras' hosts are
 * also reached over TCP (optional at run time, so failures there are reported separately).
 */
export interface PreflightOptions {
  /** Also open TCP connections to Redis, MQTT and camera hosts. */
  connect?: boolean;
  /** Per-connection timeout for `connect`. */
  connectTimeoutMs?: number;
  /** Skip the free-port check (the caller is about to bind, or is already bound: reload). */
  skipPorts?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Write a probe file in the state directory (default true; a reload does not: a running gateway rides out a full disk). */
  probeState?: boolean;
  /** The probe's file operations (default node:fs). */
  probeFs?: ProbeFs;
}

export interface PreflightReport {
  /** `run` would fail or be blind: exit 2. */
  problems: string[];
  /** Optional dependencies unreachable (only with `connect`): exit 3. */
  unreachable: string[];
}

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

async function readable(path: string): Promise<string | undefined> {
  try {
    await access(path, constants.R_OK);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : `not readable (${(e as NodeJS.ErrnoException).code ?? "error"})`;
  }
}

async function executableOnPath(cmd: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const candidates = cmd.includes("/") ? [cmd] : (env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      if ((await stat(c)).isFile()) return true;
    } catch {
      // next candidate
    }
  }
  return false;
}

function portFree(host: string, port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => done(e.code === "EADDRINUSE" ? "port already in use" : `cannot bind (${e.code ?? e.message})`));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => done(undefined)));
  });
}

function reach(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((done) => {
    const sock = connect({ host, port });
    const finish = (why: string | undefined) => {
      sock.destroy();
      done(why);
    };
    sock.setTimeout(timeoutMs, () => finish(`no answer within ${timeoutMs} ms`));
    sock.once("connect", () => finish(undefined));
    sock.once("error", (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
  });
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } | undefined {
  try {
    const u = new URL(url);
    if (!u.hostname) return undefined;
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port ? Number(u.port) : defaultPort };
  } catch {
    return undefined;
  }
}

/**
 * Where the probe writes: `dir` (stateDir, or its nearest existing ancestor when it is not there
 * yet), plus the ledger, spool and lanes directories that are mount points of their own (another
 * filesystem can be full or read-only on its own).
 */
async function stateDirsToProbe(dir: string, state: string | undefined): Promise<string[]> {
  const dirs = [dir];
  if (!state) return dirs;
  const base = await stat(state).catch(() => undefined);
  for (const sub of ["ledger", "spool", "lanes"]) {
    const st = await stat(join(state, sub)).catch(() => undefined);
    if (base && st?.isDirectory() && st.dev !== base.dev) dirs.push(join(state, sub));
  }
  return dirs;
}

export async function preflight(cfg: GatewayConfig, opts: PreflightOptions = {}): Promise<PreflightReport> {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  const unreachable: string[] = [];
  // Values substituted from the environment are registered secrets: the report goes to stderr and, under systemd, the journal.
  const got = (v: string) => `(got '${secretMasker.mask(v)}')`;
  const targets: Array<{ what: string; host: string; port: number }> = [];

  // Trust: the pinned root keys must parse, local sources must exist.
  for (const [i, l] of cfg.trust.lists.entries()) {
    const where = `trust.lists[${i}]`;
    const bad = await readable(l.rootKey);
    if (bad) problems.push(`${where}.rootKey: ${bad} ${got(l.rootKey)}`);
    else {
      try {
        parseRootKey(await readFile(l.rootKey, "utf8"));
      } catch (e) {
        problems.push(`${where}.rootKey: ${(e as Error).message} ${got(l.rootKey)}`);
      }
    }
    if (isUrl(l.source)) {
      if (!/^https?:\/\//i.test(l.source)) problems.push(`${where}.source: must be a file path or an http(s) URL ${got(l.source)}`);
    } else {
      const b = await readable(l.source);
      if (b) problems.push(`${where}.source: ${b} ${got(l.source)}`);
    }
  }
  for (const [i, c] of cfg.trust.certificates.entries()) {
    const b = await readable(c);
    if (b) problems.push(`trust.certificates[${i}]: ${b} ${got(c)}`);
  }
  // Unsigned sources (JWKS, deny lists) are refused over plain http at run time unless allowed.
  const unsignedSource = async (where: string, source: string, allowHttp: boolean) => {
    if (isUrl(source)) {
      if (/^https:\/\//i.test(source)) return;
      if (/^http:\/\//i.test(source)) {
        if (!allowHttp) problems.push(`${where}: plain http for an unsigned source needs allowInsecureHttp: true ${got(source)}`);
        return;
      }
      problems.push(`${where}: must be a file path or an https URL ${got(source)}`);
      return;
    }
    const b = await readable(source);
    if (b) problems.push(`${where}: ${b} ${got(source)}`);
  };
  for (const j of cfg.trust.jwks) {
    await unsignedSource(`trust.jwks[${j.issuer}].source`, j.source ?? `${j.issuer.replace(/\/+$/, "")}/.well-known/jwks.json`, j.allowInsecureHttp);
  }
  for (const [i, r] of cfg.trust.revocations.entries()) {
    const { source, allowInsecureHttp } = typeof r === "string" ? { source: r, allowInsecureHttp: false } : r;
    await unsignedSource(`trust.revocations[${i}]`, source, allowInsecureHttp);
  }

  // Cameras and lanes.
  const ffmpegs = new Set<string>();
  for (const c of cfg.cameras) {
    if (c.source === "file" && c.file) {
      const b = await readable(c.file);
      if (b) problems.push(`cameras[${c.id}].file: ${b} ${got(c.file)}`);
    }
    ffmpegs.add(c.ffmpegPath);
    if (c.source === "rtsp" && c.url) {
      const hp = hostPort(c.url, 554);
      if (!hp) problems.push(`cameras[${c.id}].url: no host in the URL ${got(c.url)}`);
      else targets.push({ what: `cameras[${c.id}] (${hp.host}:${hp.port})`, ...hp });
    }
    // The substream is a second connection, often to the same host; it is checked on its own.
    if (c.source === "rtsp" && c.subStream) {
      const hp = hostPort(c.subStream.url, 554);
      if (!hp) problems.push(`cameras[${c.id}].subStream.url: no host in the URL ${got(c.subStream.url)}`);
      else targets.push({ what: `cameras[${c.id}].subStream (${hp.host}:${hp.port})`, ...hp });
    }
  }
  for (const f of ffmpegs) {
    if (!(await executableOnPath(f, env))) problems.push(`cameras: ffmpeg executable not found (got '${f}'); install Debian's ffmpeg or set cameras[].ffmpegPath`);
  }
  const watched = new Set(cfg.cameras.map((c) => c.lane));
  for (const l of cfg.lanes) {
    if (!watched.has(l.id)) problems.push(`lanes[${l.id}]: no camera watches this lane (it would stay out of service)`);
  }

  // Outputs: URL schemes, so a typo is not found as "Invalid header flag bits" every 2 s at run time.
  if (cfg.mqtt) {
    const m = cfg.mqtt.url;
    if (!/^(mqtts?|wss?):\/\//i.test(m)) problems.push(`mqtt.url: must start with mqtt://, mqtts://, ws:// or wss:// ${got(m)}`);
    else {
      const hp = hostPort(m, /^mqtts/i.test(m) ? 8883 : /^wss/i.test(m) ? 443 : /^ws/i.test(m) ? 80 : 1883);
      if (!hp) problems.push(`mqtt.url: no host in the URL ${got(m)}`);
      else targets.push({ what: `mqtt (${hp.host}:${hp.port})`, ...hp });
    }
  }
  if (cfg.redis) {
    if (!cfg.redis.url && !cfg.redis.cluster?.length) problems.push("redis: set url or cluster (got neither)");
    if (cfg.redis.url) {
      const r = cfg.redis.url;
      if (!/^rediss?:\/\//i.test(r)) problems.push(`redis.url: must start with redis:// or rediss:// ${got(r)}`);
      else {
        const hp = hostPort(r, 6379);
        if (!hp) problems.push(`redis.url: no host in the URL ${got(r)}`);
        else targets.push({ what: `redis (${hp.host}:${hp.port})`, ...hp });
      }
    }
    for (const [i, n] of (cfg.redis.cluster ?? []).entries()) {
      const m = /^(.+):(\d{1,5})$/.exec(n);
      if (!m) problems.push(`redis.cluster[${i}]: must be host:port ${got(n)}`);
      else targets.push({ what: `redis.cluster[${i}] (${n})`, host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) });
    }
  }

  // State directory: the spool, ledger and last-good trust copies live there.
  const state = resolve(cfg.gateway.stateDir);
  const st = await stat(state).catch(() => undefined);
  if (st && !st.isDirectory()) problems.push(`gateway.stateDir: not a directory ${got(cfg.gateway.stateDir)}`);
  else {
    let probe = st ? state : dirname(state);
    // The nearest existing ancestor must be writable for the directory to be created.
    while (!st && !(await stat(probe).catch(() => undefined)) && dirname(probe) !== probe) probe = dirname(probe);
    try {
      await access(probe, constants.W_OK);
      // A real write: access() passes for root on a full disk and on a filesystem gone read-only.
      if (opts.probeState !== false) {
        for (const dir of await stateDirsToProbe(probe, st ? state : undefined)) {
          const why = await probeWritable(dir, opts.probeFs);
          if (why) problems.push(`gateway.stateDir: GW_STATE_DIR_UNWRITABLE: cannot write: ${secretMasker.mask(why)} ${got(cfg.gateway.stateDir)}`);
        }
      }
    } catch (e) {
      problems.push(`gateway.stateDir: GW_STATE_DIR_UNWRITABLE: cannot write: ${describeErrno(e)} at ${secretMasker.mask(probe)} ${got(cfg.gateway.stateDir)}`);
    }
    const holder = st ? lockHolder(state) : undefined;
    if (holder) problems.push(`gateway.stateDir: GW_STATE_DIR_LOCKED: in use by another gateway, ${describeHolder(holder)} ${got(cfg.gateway.stateDir)}`);
  }

  // Listeners.
  if (!opts.skipPorts) {
    const listeners = [{ what: "server.listen", ...cfg.server.listen }];
    if (cfg.server.admin.token) listeners.push({ what: "server.admin.listen", ...cfg.server.admin.listen });
    for (const l of listeners) {
      if (l.port === 0) continue;
      const b = await portFree(l.host, l.port);
      if (b) problems.push(`${l.what}: ${b} (got '${l.host}:${l.port}')`);
    }
  }

  if (opts.connect) {
    const results = await Promise.all(targets.map(async (t) => ({ t, why: await reach(t.host, t.port, opts.connectTimeoutMs ?? 2000) })));
    for (const { t, why } of results) if (why) unreachable.push(`${t.what}: cannot connect (${why})`);
  }
  return { problems, unreachable };
}

/**
 * A reload's read step: the checks `run` makes at start (ports aside: they are ours), so a file `run`
 * would refuse (a missing clip or root key) is invalid and nothing of it is applied.
 */
export async function checkedForReload(cfg: GatewayConfig, env?: NodeJS.ProcessEnv): Promise<GatewayConfig> {
  const report = await preflight(cfg, { skipPorts: true, probeState: false, ...(env ? { env } : {}) });
  if (report.problems.length > 0) throw new ConfigError(report.problems);
  return cfg;
}
