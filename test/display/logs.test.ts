import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/core/logger.js";
import { FakeGateway, TOKEN, testConfig } from "./fakes.js";

describe("request logs", () => {
  it("log method, path and status, never headers, query strings, tokens or verdict hashes", async () => {
    expect.hasAssertions();
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ level: "debug", destination });
    const gw = new FakeGateway();
    const server = gw.server(testConfig(), { logger });
    try {
      const admin = (await server.adminApp())!;
      await server.app.inject({ url: "/readyz?session=topsecretquery", headers: { cookie: "sid=cookie-secret", "x-api-key": "header-secret" } });
      await server.app.inject({ url: "/lanes/A/state", headers: { authorization: "Bearer header-secret-2" } });
      gw.verdict("A", "PASS", "OK");
      await admin.inject({ method: "POST", url: "/admin/lanes/A/pause", headers: { authorization: `Bearer ${TOKEN}` } });
      await admin.inject({ method: "POST", url: "/admin/reload", headers: { authorization: "Bearer guessed-token-guessed" } });
    } finally {
      await server.close();
    }
    const all = lines.join("");
    expect(all).toContain('"url":"/readyz"');
    expect(all).toContain('"url":"/admin/lanes/A/pause"');
    expect(all).toContain("admin request refused");
    for (const secret of ["topsecretquery", "cookie-secret", "header-secret", TOKEN, "guessed-token", "c0ffee", "deadbeef"]) {
      expect(all, secret).not.toContain(secret);
    }
  });
});
