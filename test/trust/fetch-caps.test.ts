import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { GatewayError } from "../../src/core/errors.js";
import { shcKid } from "../../src/verify/trust/keys.js";
import { loadTrustSource } from "../../src/verify/trust/load-source.js";
import { DiskCopy } from "../../src/verify/trust/sources/disk-copy.js";
import { MAX_JWKS_BYTES } from "../../src/verify/trust/sources/jwks-source.js";
import { MAX_CRL_BYTES } from "../../src/verify/trust/sources/shc-crl.js";
import { createTrustStore } from "../../src/verify/trust/store.js";
import { captureLogs, tempDir, trustConfig, until } from "./helpers.js";

/**
 * An issuer's JWKS is capped at 1 MiB (MAX_JWKS_BYTES), far below trust.maxListBytes (64 MiB by
 * default): a 60 MB JWKS is refused as it arrives, whatever its framing, without being read to the
 * end or parsed, and the keys held stay. Served by real local servers: node's http for
 * Content-Length and chunked bodies, a raw socket for a body ended by closing and a lying length.
 */
const ISSUER = "https://issuer.example";
const KEY = (() => {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, use: "sig", alg: "ES256" };
})();
const GOOD = Buffer.from(JSON.stringify({ keys: [KEY] }));
/** A valid one-key JWKS padded with whitespace to `size` bytes: without a byte cap it parses (and loads) fine. */
const HEAD = Buffer.from(`{"keys":[${JSON.stringify(KEY)}]`);
const BIG = 60 * 1024 * 1024;
const padded = (size: number): Buffer => Buffer.concat([HEAD, Buffer.alloc(size - HEAD.length - 1, 0x20), Buffer.from("}")]);
const CHUNK = Buffer.alloc(64 * 1024, 0x20);
/** Cap plus what loopback socket buffers may take in before the client stops reading; far below BIG. */
const SENT_BOUND = 16 * 1024 * 1024;

type Mode = "good" | "content-length" | "chunked" | "close-delimited" | "lying-length";

/** Resolves on the next 'drain' or at 'close', leaving no listener behind. */
function drainOf(stream: { once(ev: string, f: () => void): unknown; off(ev: string, f: () => void): unknown }, closed: () => boolean): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (closed()) return resolve();
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        resolve();
      };
      stream.once("drain", done);
      stream.once("close", done);
    });
}

/** Writes HEAD, then spaces up to BIG, then `}`, with backpressure, until done or the peer goes away; returns the bytes written. */
async function pump(write: (b: Buffer) => boolean, drained: () => Promise<void>, gone: () => boolean): Promise<number> {
  let sent = 0;
  const send = async (b: Buffer) => {
    sent += b.length;
    if (!write(b)) await drained();
  };
  await send(HEAD);
  while (sent < BIG - CHUNK.length - 1 && !gone()) await send(CHUNK);
  if (!gone()) await send(Buffer.from("}"));
  return sent;
}

class OversizeServer {
  mode: Mode = "good";
  /** Bytes written per oversized response, once it ended (finished or cut by the client). */
  readonly sent: number[] = [];
  private http?: HttpServer;
  private raw?: NetServer;
  private readonly sockets = new Set<Socket>();
  httpPort = 0;
  rawPort = 0;

  async start(): Promise<void> {
    this.http = createHttpServer((req, res) => {
      if (this.mode === "good") {
        res.writeHead(200, { "content-type": "application/json", "content-length": String(GOOD.length) }).end(GOOD);
        return;
      }
      let closed = false;
      res.on("close", () => (closed = true));
      // content-length: honest and over the cap; chunked: no length at all.
      res.writeHead(200, this.mode === "content-length" ? { "content-length": String(BIG) } : {});
      void pump((b) => res.write(b), drainOf(res, () => closed), () => closed).then((n) => {
        this.sent.push(n);
        res.end();
      });
    });
    this.raw = createNetServer((sock) => {
      this.sockets.add(sock);
      let closed = false;
      sock.on("close", () => {
        closed = true;
        this.sockets.delete(sock);
      });
      sock.on("error", () => (closed = true));
      sock.once("data", () => {
        // close-delimited: no Content-Length, not chunked, the body ends when the connection does.
        // lying-length: says 1,000 bytes, then sends 60 MB.
        const length = this.mode === "lying-length" ? "content-length: 1000\r\n" : "";
        sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n${length}\r\n`);
        void pump((b) => !closed && sock.write(b), drainOf(sock, () => closed), () => closed).then((n) => {
          this.sent.push(n);
          sock.end();
        });
      });
    });
    await new Promise<void>((r) => this.http!.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => this.raw!.listen(0, "127.0.0.1", r));
    this.httpPort = (this.http.address() as AddressInfo).port;
    this.rawPort = (this.raw.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.http?.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await Promise.all([new Promise((r) => this.http?.close(r)), new Promise((r) => this.raw?.close(r))]);
  }
}

const tmp = tempDir("fetch-caps");
const server = new OversizeServer();
beforeAll(() => server.start());
afterAll(async () => {
  await server.stop();
  tmp.cleanup();
});

describe("JWKS byte cap (MAX_JWKS_BYTES)", () => {
  it("a JWKS over 1 MiB is refused as it arrives (Content-Length, chunked, ended by closing, a lying length), the keys held stay, the URL is masked", async () => {
    expect(MAX_JWKS_BYTES).toBe(1024 * 1024);
    // A front that forwards to the node http server or the raw one, per mode, at one configured URL with a token in its query.
    const front = createHttpServer((req, res) => {
      const port = server.mode === "close-delimited" || server.mode === "lying-length" ? server.rawPort : server.httpPort;
      res.writeHead(307, { location: `http://127.0.0.1:${port}${req.url}` }).end();
    });
    await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}/.well-known/jwks.json?token=SECRET-TOKEN`;
    const logs = captureLogs();
    const store = await createTrustStore({
      config: trustConfig({ jwks: [{ issuer: ISSUER, source: url, allowInsecureHttp: true }] }),
      stateDir: join(tmp.dir, "state"),
      clock: new FakeClock(Date.now()),
      logger: logs.logger,
    });
    const errors: Array<{ reason?: string }> = [];
    store.on("error", (e) => errors.push(e as { reason?: string }));
    try {
      server.mode = "good";
      await store.start();
      expect(store.status().sources[0]).toMatchObject({ ok: true, keys: 1 });

      const cases: Array<[Mode, string]> = [
        ["content-length", "size"], // refused on the header, nothing read
        ["chunked", "size"],
        ["close-delimited", "size"],
        // fetch frames the body by the length said, so only 1,000 bytes are read: a cut JWKS, refused as content.
        ["lying-length", "content"],
      ];
      for (const [i, [mode, reason]] of cases.entries()) {
        server.mode = mode;
        const sentBefore = server.sent.length;
        await store.refreshNow();
        const src = store.status().sources[0]!;
        expect({ mode, ...src }).toMatchObject({ mode, ok: false, error: `GW_TRUST_FETCH:${reason}`, keys: 1 });
        expect(store.view().keysForIssuer!(ISSUER, "shc").map((k) => k.kid)).toEqual([shcKid(KEY)]);
        expect(errors).toHaveLength(i + 1);
        expect(errors[i]).toMatchObject({ reason });
        // The server stopped being read long before 60 MB: the client cut the connection.
        await until(() => server.sent.length > sentBefore);
        expect({ mode, sent: server.sent.at(-1)! < SENT_BOUND }).toEqual({ mode, sent: true });
      }
      const failed = logs.records().filter((r) => r.msg === "trust source refresh failed; last good copy kept");
      expect(failed.map((r) => r.reason)).toEqual(cases.map(([, reason]) => reason));
      expect(failed[1]!.err).toBe(`JWKS exceeds the cap of ${MAX_JWKS_BYTES} bytes: download stopped`);
      expect(failed[0]!.err).toBe(`JWKS of ${BIG} bytes (Content-Length) exceeds the cap of ${MAX_JWKS_BYTES} bytes: not read`);
      expect(failed[0]!.source).toBe(url.slice(0, url.indexOf("?")) + "?…");
      expect(logs.records().filter((r) => JSON.stringify(r).includes("SECRET-TOKEN"))).toEqual([]);
    } finally {
      await store.stop();
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
    }
  }, 60_000);

  it("a disk copy of a JWKS over the cap (saved before it existed) is refused unread and counted", async () => {
    const url = `http://127.0.0.1:${server.httpPort}/disk/jwks.json`;
    const stateDir = join(tmp.dir, "disk-state");
    await new DiskCopy(join(stateDir, "trust"), "jwks", url).save(padded(2 * MAX_JWKS_BYTES), { fetchedAt: Date.now() });
    const logs = captureLogs();
    // The server answers with a body over the cap too: only the disk copy could give keys.
    const store = await createTrustStore({ config: trustConfig({ jwks: [{ issuer: ISSUER, source: url, allowInsecureHttp: true }] }), stateDir, clock: new FakeClock(Date.now()), logger: logs.logger });
    server.mode = "content-length";
    try {
      await store.start();
      expect(store.status().sources[0]).toMatchObject({ ok: false, keys: 0 });
      expect(store.stats().cacheCopiesRefused).toBe(1);
      expect(logs.records().find((r) => r.msg === "disk copy of trust source rejected")).toMatchObject({ reason: "size" });
    } finally {
      await store.stop();
    }
  });

  it("the CLI's ISSUER=FILE JWKS and a local SHC CRL are held to the same caps", async () => {
    const dir = join(tmp.dir, "cli");
    mkdirSync(join(dir, "crl"), { recursive: true });
    const big = join(dir, "big.jwks.json");
    writeFileSync(big, padded(2 * MAX_JWKS_BYTES));
    const err = await loadTrustSource(`${ISSUER}=${big}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as Error).message).toContain(`larger than ${MAX_JWKS_BYTES} bytes`);

    // A key announcing a CRL whose local file is over MAX_CRL_BYTES: the keys load, the CRL does not.
    const kid = shcKid(KEY);
    const jwks = join(dir, "jwks.json");
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...KEY, kid, crlVersion: 1 }] }));
    const crlHead = Buffer.from(JSON.stringify({ kid, method: "rid", ctr: 1, rids: ["AAAAAAAAAAA"] }).slice(0, -1));
    writeFileSync(join(dir, "crl", `${kid}.json`), Buffer.concat([crlHead, Buffer.alloc(MAX_CRL_BYTES, 0x20), Buffer.from("}")]));
    const view = await loadTrustSource(`${ISSUER}=${jwks}`);
    expect(view.keysForIssuer!(ISSUER, "shc")).toHaveLength(1);
    expect(view.status(Date.now()).sources[0]).toMatchObject({ error: "GW_TRUST_FETCH:crl-size" });
  });
});
