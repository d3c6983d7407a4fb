import { mkdtempSync, renameSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpServer } from "../../src/output/http/index.js";
import { ACCESS_TOKEN, FakeGateway, authConfig } from "./fakes.js";
import { selfSigned } from "../support/certs.js";
import { TlsReloader } from "../../src/output/http/tls.js";
import { silentLogger } from "../../src/core/logger.js";

/** A throw-away self-signed certificate for localhost (openssl at test time, nothing committed). */
const makeCert = (dir: string, name: string, cn: string) => selfSigned(dir, name, { cn, days: 1, san: "DNS:localhost,IP:127.0.0.1" });

function peerCert(port: number, ca: Buffer): Promise<{ cn: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      const c = s.getPeerCertificate();
      s.end();
      resolve({ cn: String(c.subject.CN), fingerprint: c.fingerprint256 });
    });
    s.on("error", reject);
  });
}

function get(url: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe("TLS on the read-only listener", () => {
  it("serves HTTPS with the configured certificate and reloads it when the files change", async () => {
    expect.hasAssertions();
    const dir = mkdtempSync(join(tmpdir(), "cgw-tls-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const live = { cert: join(dir, "live.crt"), key: join(dir, "live.key") };
    const first = makeCert(dir, "first", "gateway-first");
    const second = makeCert(dir, "second", "gateway-second");
    writeFileSync(live.cert, readFileSync(first.cert));
    writeFileSync(live.key, readFileSync(first.key));

    const gw = new FakeGateway();
    const server: HttpServer = gw.server(authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { enabled: true, token: ACCESS_TOKEN }, tls: live } }));
    cleanup.push(() => server.close());
    const { publicUrl } = await server.listen();
    expect(publicUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(publicUrl).port);
    const url = `https://localhost:${port}`;

    const ca1 = readFileSync(first.cert);
    expect((await peerCert(port, ca1)).cn).toBe("gateway-first");
    expect((await get(`${url}/healthz`, ca1)).status).toBe(200);
    expect((await get(`${url}/api/status`, ca1)).status).toBe(401);
    expect((await get(`${url}/api/status`, ca1, { authorization: `Bearer ${ACCESS_TOKEN}` })).status).toBe(200);
    // A session cookie over TLS is Secure.
    const login = await new Promise<string>((resolve, reject) => {
      const req = request(`${url}/login`, { method: "POST", ca: ca1, headers: { origin: url, "content-type": "application/x-www-form-urlencoded" } }, (res) => {
        res.resume();
        resolve(String(res.headers["set-cookie"]));
      });
      req.on("error", reject);
      req.end(`token=${ACCESS_TOKEN}`);
    });
    expect(login).toMatch(/; Secure$/);

    // Renewal as certbot does it: new files renamed over the old ones, key first.
    renameSync(second.key, live.key);
    renameSync(second.cert, live.cert);
    const ca2 = readFileSync(live.cert);
    const deadline = Date.now() + 15_000;
    let seen = "";
    while (Date.now() < deadline) {
      seen = await peerCert(port, ca2).then((c) => c.cn, () => "still-old");
      if (seen === "gateway-second") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toBe("gateway-second");
    expect((await get(`${url}/healthz`, ca2)).status).toBe(200);

    // A broken pair (key that does not match) is refused; the current certificate stays in service.
    const third = makeCert(dir, "third", "gateway-third");
    renameSync(third.key, live.key);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await peerCert(port, ca2)).cn).toBe("gateway-second");
    // ...and /metrics learns both: the served certificate's expiry, and the failed reload.
    const [state] = server.tls();
    expect(state).toMatchObject({ listener: "public", validTo: new X509Certificate(ca2).validToDate.getTime() });
    expect(state!.reloadErrors).toBeGreaterThanOrEqual(1);
  });

  it("a missing or mismatched certificate is a clear config error at start", () => {
    const dir = mkdtempSync(join(tmpdir(), "cgw-tls-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const a = makeCert(dir, "a", "a"), b = makeCert(dir, "b", "b");
    const gw = new FakeGateway();
    const cfg = (tls: { cert: string; key: string }) => authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { enabled: true, token: ACCESS_TOKEN }, tls } });
    expect(() => gw.server(cfg({ cert: join(dir, "missing.crt"), key: a.key }))).toThrow(/server\.tls: cannot read .*missing\.crt \(ENOENT\)/);
    const thrown = (() => {
      try {
        gw.server(cfg({ cert: a.cert, key: b.key }));
        return undefined;
      } catch (e) {
        return e as Error & { code?: string };
      }
    })();
    expect(thrown?.message).toMatch(/server\.tls: .* do not load as a certificate and its key/);
    expect(thrown?.code).toBe("GW_CONFIG_INVALID");
  });
});

describe("TLS certificate expiry and reload failures (for /metrics)", () => {
  const expiry = (file: string) => new X509Certificate(readFileSync(file)).validToDate.getTime();
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), "cgw-tls-"));
    cleanup.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };

  it("the server reports the served certificate's expiry per TLS listener, and nothing without TLS", () => {
    const d = dir();
    const short = selfSigned(d, "short", { cn: "short", days: 3, san: "DNS:localhost" });
    const gw = new FakeGateway();
    const tls = gw.server(authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { enabled: true, token: ACCESS_TOKEN }, tls: short } }));
    cleanup.push(() => tls.close());
    expect(tls.tls()).toEqual([{ listener: "public", validTo: expiry(short.cert), reloadErrors: 0 }]);
    // openssl's -days 3 from now: the parsed date is the certificate's, not a default.
    expect(Math.abs(expiry(short.cert) - (Date.now() + 3 * 86_400_000))).toBeLessThan(3_600_000);
    const plain = gw.server();
    cleanup.push(() => plain.close());
    expect(plain.tls()).toEqual([]);
  });

  it("a renewed certificate moves the expiry; a pair that does not load counts an error and keeps both", () => {
    const d = dir();
    const live = { cert: join(d, "live.crt"), key: join(d, "live.key") };
    const old = selfSigned(d, "old", { days: 2 });
    const renewed = selfSigned(d, "renewed", { days: 90 });
    const other = selfSigned(d, "other", { days: 30 });
    writeFileSync(live.cert, readFileSync(old.cert));
    writeFileSync(live.key, readFileSync(old.key));
    const applied: unknown[] = [];
    const r = new TlsReloader({ files: live, logger: silentLogger, apply: (ctx) => applied.push(ctx) });
    expect(r.state()).toEqual({ validTo: expiry(old.cert), reloadErrors: 0 });

    writeFileSync(live.key, readFileSync(renewed.key));
    writeFileSync(live.cert, readFileSync(renewed.cert));
    expect(r.reload()).toBe(true);
    expect(r.state()).toEqual({ validTo: expiry(renewed.cert), reloadErrors: 0 });
    expect(expiry(renewed.cert)).toBeGreaterThan(expiry(old.cert));
    // Unchanged files are no reload and no error.
    expect(r.reload()).toBe(false);
    expect(r.state().reloadErrors).toBe(0);

    // Half a renewal: a new certificate with the old key does not load (the server refuses it).
    const refuse = new TlsReloader({ files: live, logger: silentLogger, apply: () => { throw new Error("key values mismatch"); } });
    writeFileSync(live.cert, readFileSync(other.cert));
    expect(refuse.reload()).toBe(false);
    expect(refuse.state()).toEqual({ validTo: expiry(renewed.cert), reloadErrors: 1 });
    // A file that vanished mid-renewal is an error too.
    rmSync(live.key);
    expect(r.reload()).toBe(false);
    expect(r.state()).toEqual({ validTo: expiry(renewed.cert), reloadErrors: 1 });
    expect(applied).toHaveLength(1);
  });
});
