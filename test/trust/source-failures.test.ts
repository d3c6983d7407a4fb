import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { fetchDoc } from "../../src/verify/trust/sources/fetch-doc.js";
import { createTrustStore } from "../../src/verify/trust/store.js";
import { captureLogs, ListServer, makeKeyPair, passEntry, signedList, tempDir, trustConfig } from "./helpers.js";

const tmp = tempDir("failures");
afterAll(() => tmp.cleanup());

describe("a trust source whose disk copy cannot be written (audit #4)", () => {
  it("is ok and in use: a `disk` warning, the `updated` event; the same on a 304", async () => {
    const server = new ListServer();
    await server.start();
    const root = await makeKeyPair("root");
    const rootPath = join(tmp.dir, "root.jwk");
    writeFileSync(rootPath, JSON.stringify(root.pub));
    server.body = await signedList(root.priv, 7, [(await passEntry("p1")).entry]);
    const stateDir = join(tmp.dir, "state");
    // A file where stateDir/trust should be: no write under it can succeed (whoever runs the test).
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, "trust"), "not a directory");
    const logs = captureLogs();
    const store = await createTrustStore({ config: trustConfig({ lists: [{ source: server.url, rootKey: rootPath }] }), stateDir, clock: new FakeClock(Date.now()), logger: logs.logger });
    let updated = 0;
    store.on("updated", () => updated++);
    try {
      await store.start();
      expect(store.status()).toMatchObject({ version: "7", stale: false });
      expect(store.status().sources[0]).toMatchObject({ ok: true, keys: 1 });
      expect(store.status().sources[0]!.error).toBeUndefined();
      expect(updated).toBe(1);
      const warned = () => logs.records().filter((r) => r.code === "GW_TRUST_FETCH" && r.reason === "disk").length;
      expect(warned()).toBe(1);
      expect(logs.records().some((r) => r.reason === "internal" || /last good copy kept/.test(String(r.msg)))).toBe(false);
      await store.refreshNow(); // 304: the meta file cannot be written either
      expect(server.conditionalHits).toBe(1);
      expect(store.status().sources[0]).toMatchObject({ ok: true });
      expect(warned()).toBe(2);
    } finally {
      await store.stop();
      await server.stop();
    }
  });
});

describe("a body cut by our own deadline (audit #5)", () => {
  it("is a `network` timeout, not `truncated`", async () => {
    // Headers at once, then a byte now and then: a slow-loris body that never ends in time.
    const srv = createServer((_req, res) => {
      res.writeHead(200, { "content-length": "1000" });
      const t = setInterval(() => res.write("x"), 50);
      res.on("close", () => clearInterval(t));
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/list.jws`;
      const err = await fetchDoc(url, { fetch, timeoutMs: 300, maxBytes: 10_000, allowHttp: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "GW_TRUST_FETCH", reason: "network" });
      expect((err as Error).message).toMatch(/timeout/);
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe("a fetch error that quotes the URL", () => {
  it("names the source as the logs do: credentials masked, the query string (tokens, signatures) dropped", async () => {
    const url = "https://trust.example/list.jws?key=ApiKey55&X-Amz-Signature=AmzSig66";
    // undici puts the whole URL in its errors' text, e.g. for a URL with credentials or a bad host.
    const fetch = (u: string | URL | Request) => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: new Error(`getaddrinfo ENOTFOUND for ${String(u)}: unreachable`) }));
    const err = (await fetchDoc(url, { fetch: fetch as typeof globalThis.fetch, timeoutMs: 1000, maxBytes: 10_000 }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain("https://trust.example/list.jws?…");
    expect(err.message).not.toMatch(/ApiKey55|AmzSig66/);
  });
});
