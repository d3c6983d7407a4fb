import { mkdtempSync, renameSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpServer } from "../../src/output/http/index.js";
import { ACCESS_TOKEN, FakeGateway, authConfig } from "./fakes.js";
import { selfSigned } from "../support/certs.js";

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
