import * as realFs from "node:fs";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createLogger, type Logger } from "../../src/core/logger.js";
import type { VerdictEvent } from "../../src/core/types.js";

export const SHARED_REDIS = "redis://127.0.0.1:6379";
export const SHARED_MQTT = "mqtt://127.0.0.1:1883";

export function rid(): string {
  return randomBytes(6).toString("hex");
}

export function tmpDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `cpgw-${tag}-`));
}

export function rmDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Makes `dir` refuse new files for real (the fs call fails, no fake): as root permissions are
 * ignored, so the immutable attribute is used (ext4, xfs, btrfs); elsewhere chmod 0555. If neither
 * takes effect, the directory is swapped for a plain file so creating anything in it fails with
 * ENOTDIR. Checked with a probe write, so a test can never pass against a still-writable dir.
 * Returns the undo.
 */
export function makeReadOnly(dir: string): () => void {
  const probe = () => {
    try {
      writeFileSync(join(dir, ".probe"), "x");
      rmSync(join(dir, ".probe"), { force: true });
      return false;
    } catch {
      return true;
    }
  };
  if (process.getuid?.() === 0) {
    try {
      execFileSync("chattr", ["+i", dir], { stdio: "ignore" });
      if (probe()) return () => execFileSync("chattr", ["-i", dir], { stdio: "ignore" });
      execFileSync("chattr", ["-i", dir], { stdio: "ignore" });
    } catch {
      // no chattr or no support on this file system: fall through
    }
  } else {
    chmodSync(dir, 0o555);
    if (probe()) return () => chmodSync(dir, 0o755);
    chmodSync(dir, 0o755);
  }
  renameSync(dir, dir + ".away");
  writeFileSync(dir, "");
  if (!probe()) throw new Error(`could not make ${dir} read-only`);
  return () => {
    unlinkSync(dir);
    renameSync(dir + ".away", dir);
  };
}

/**
 * Makes an existing file refuse writes for real, through file descriptors opened before too (the
 * spool keeps its file open): only the immutable attribute does that, so it needs root. Checked with a
 * probe append. Returns the undo. `canRefuseFileWrites` says whether the tests using it can run.
 */
export const canRefuseFileWrites = process.getuid?.() === 0;
export function refuseFileWrites(file: string): () => void {
  execFileSync("chattr", ["+i", file], { stdio: "ignore" });
  const undo = () => execFileSync("chattr", ["-i", file], { stdio: "ignore" });
  try {
    appendFileSync(file, "x");
  } catch {
    return undo;
  }
  undo();
  throw new Error(`could not make ${file} refuse writes`);
}

export function makeEvent(gatewayId: string, lane: string, seq: number, extra: Partial<VerdictEvent> = {}): VerdictEvent {
  return {
    id: `${gatewayId}:${lane}:${seq}`,
    gatewayId,
    lane,
    cameraId: `cam-${lane}`,
    seq,
    at: Date.UTC(2026, 0, 1) + seq * 100,
    verdict: seq % 3 === 0 ? "FLAG" : "PASS",
    reason: seq % 3 === 0 ? "SIG_INVALID" : "OK",
    format: "dcc",
    kid: "a1b2c3d4e5f6a7b8",
    issuer: "VN",
    trustVersion: "2026-01-01T00:00:00Z#12",
    credentialHash: "00112233445566ff",
    payloadHash: "ffeeddccbbaa9988",
    frameToVerdictMs: 12,
    firstSeenToVerdictMs: 40,
    ...extra,
  };
}

/** A logger whose JSON lines are kept for assertions (and privacy scans). */
export function captureLogger(level = "debug"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}

import { freePort } from "../../bench/lib/net.js";
export { freePort };

import { waitFor } from "../support/wait.js";
export { waitFor };

/**
 * Our own redis-server, so it can be killed without disturbing the shared one on 6379.
 * AOF with appendfsync always: what Redis acknowledged survives SIGKILL, as a durable
 * central Redis would; without it a restart empties the stream and "no loss" is meaningless.
 * `aof-load-truncated no`, and `redis-check-aof --fix` when a start fails on a torn AOF tail: a
 * SIGKILL in the middle of writing a forward script's MULTI/EXEC block leaves part of it, and Redis
 * 7.0's own truncation (the default `yes`) cuts only back to the last whole command inside the
 * MULTI; the next restart then applied that part together with the resend's block, so events were
 * in the stream twice (docs/events.md, "Redis persistence"). redis-check-aof cuts before the MULTI.
 */
export class RedisChild {
  private proc: ChildProcess | undefined;
  readonly dir = tmpDir("redis");
  /** Starts that found a torn AOF tail and repaired it with redis-check-aof --fix. */
  aofRepairs = 0;
  constructor(readonly port: number, private readonly extraArgs: string[] = []) {}

  static async create(extraArgs: string[] = []): Promise<RedisChild> {
    return new RedisChild(await freePort(), extraArgs);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return join(this.dir, "redis.log");
  }

  async start(): Promise<void> {
    if (await this.launch()) return;
    const log = existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
    if (!/Unexpected end of file reading the append only file/.test(log)) throw new Error(`redis-server on ${this.port} did not start (log: ${this.logFile})`);
    const manifest = join(this.dir, "appendonlydir", "appendonly.aof.manifest");
    execFileSync("redis-check-aof", ["--fix", manifest], { input: "y\n", stdio: ["pipe", "ignore", "ignore"] });
    this.aofRepairs++;
    if (!(await this.launch())) throw new Error(`redis-server on ${this.port} did not start after redis-check-aof --fix (log: ${this.logFile})`);
  }

  /** Spawns redis-server; true once it answers PING, false when it exits first. */
  private async launch(): Promise<boolean> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--aof-load-truncated", "no", "--dir", this.dir, "--logfile", this.logFile, ...this.extraArgs];
    const proc = spawn("redis-server", args, { stdio: "ignore" });
    this.proc = proc;
    let exited = false;
    proc.once("exit", () => (exited = true));
    const probe = new Redis(this.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    let up = false;
    try {
      await waitFor(async () => {
        if (exited) return true;
        try {
          if (probe.status !== "ready") await probe.connect();
          up = (await probe.ping()) === "PONG";
          return up;
        } catch {
          probe.disconnect();
          return false;
        }
      }, `redis-server on ${this.port}`, 20_000, 50);
    } finally {
      probe.disconnect();
    }
    if (!up) this.proc = undefined;
    return up;
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill(signal);
    });
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmDir(this.dir);
  }
}

/**
 * File calls that fail like a full disk: the next `o.shortWrites` writes take half their bytes
 * and report it; the next `o.failCuts` truncates throw EIO. The rest go to node:fs.
 */
export function shortWritingFs(o: { shortWrites: number; failCuts: number }): Pick<typeof realFs, "writeSync" | "ftruncateSync"> {
  return {
    writeSync: ((fd: number, b: Buffer) => {
      if (o.shortWrites > 0) {
        o.shortWrites--;
        return realFs.writeSync(fd, b, 0, b.length >> 1);
      }
      return realFs.writeSync(fd, b);
    }) as typeof realFs.writeSync,
    ftruncateSync: ((fd: number, len?: number) => {
      if (o.failCuts > 0) {
        o.failCuts--;
        throw Object.assign(new Error("EIO: i/o error, ftruncate"), { code: "EIO" });
      }
      realFs.ftruncateSync(fd, len);
    }) as typeof realFs.ftruncateSync,
  };
}
