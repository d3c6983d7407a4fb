import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { createLogger, type Logger } from "../../src/core/logger.js";
import { signTrustList } from "../../src/verify/trust/signed-list.js";
import type { TrustConfig } from "../../src/verify/trust/options.js";

export async function makeKeyPair(kid: string): Promise<{ priv: JWK; pub: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const priv = { ...(await exportJWK(privateKey)), kid, alg: "ES256" };
  const pub = { ...(await exportJWK(publicKey)), kid, alg: "ES256" };
  return { priv, pub };
}

export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `cpgw-trust-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A self-signed P-256 certificate made by openssl (DER), standing in for a DCC document signer. */
export function makeCertificate(dir: string, name: string, country = "XX"): { der: Buffer; pemPath: string; derPath: string } {
  const key = join(dir, `${name}.key`);
  const pemPath = join(dir, `${name}.pem`);
  const derPath = join(dir, `${name}.der`);
  execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  execFileSync("openssl", ["req", "-x509", "-new", "-key", key, "-subj", `/C=${country}/CN=DSC ${name}`, "-days", "30", "-out", pemPath]);
  execFileSync("openssl", ["x509", "-in", pemPath, "-outform", "DER", "-out", derPath]);
  rmSync(key);
  return { der: readFileSync(derPath), pemPath, derPath };
}

export interface LogCapture {
  logger: Logger;
  records: () => Array<Record<string, unknown>>;
  codes: () => string[];
}

export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ level: "debug", destination: stream });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, records, codes: () => records().flatMap((r) => (typeof r.code === "string" ? [r.code] : [])) };
}

export async function listPayload(version: number, entries: unknown[], extra: Record<string, unknown> = {}) {
  return { version, issuedAt: new Date().toISOString(), entries, ...extra };
}

export async function passEntry(kid: string, issuer = "XA") {
  const { pub, priv } = await makeKeyPair(kid);
  return { entry: { kid, issuer, formats: ["pass"], jwk: pub }, priv };
}

export async function signedList(root: JWK, version: number, entries: unknown[], extra: Record<string, unknown> = {}): Promise<string> {
  return signTrustList(await listPayload(version, entries, extra), root);
}

export type Behaviour = "ok" | "500" | "truncate" | "hang";

/** A trust list server on 127.0.0.1:0 whose answers the test scripts. */
export class ListServer {
  body = "";
  etag = '"v0"';
  behaviour: Behaviour = "ok";
  /** Overrides the Date header (epoch ms). */
  dateMs?: number;
  /** Sends an Age header (s): the response as a cache would serve it. */
  ageS?: number;
  hits = 0;
  conditionalHits = 0;
  private server?: Server;
  port = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(this.port, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/trust/list.jws`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.hits++;
    if (this.dateMs !== undefined) res.setHeader("date", new Date(this.dateMs).toUTCString());
    if (this.ageS !== undefined) res.setHeader("age", String(this.ageS));
    if (this.behaviour === "hang") return; // accept, never answer
    if (this.behaviour === "500") {
      res.writeHead(500).end("oops");
      return;
    }
    if (req.headers["if-none-match"]) this.conditionalHits++;
    if (req.headers["if-none-match"] === this.etag) {
      res.writeHead(304, { etag: this.etag }).end();
      return;
    }
    const buf = Buffer.from(this.body);
    if (this.behaviour === "truncate") {
      res.writeHead(200, { etag: this.etag, "content-length": String(buf.length) });
      res.write(buf.subarray(0, Math.floor(buf.length / 2)));
      setTimeout(() => res.destroy(), 10);
      return;
    }
    res.writeHead(200, { etag: this.etag, "content-type": "application/jose", "content-length": String(buf.length) }).end(buf);
  }
}

export function trustConfig(partial: Partial<TrustConfig>): TrustConfig {
  return {
    lists: [],
    certificates: [],
    jwks: [],
    revocations: [],
    refreshIntervalS: 3600,
    maxAgeS: 86400,
    staleAction: "flag",
    clockSkewS: 120,
    maxClockDriftS: 7200,
    clockAction: "out-of-service",
    fetchTimeoutS: 10,
    ...partial,
  };
}

/** Polls a condition (no fixed sleeps): resolves when true, fails after a generous timeout. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
