import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, loadConfigFile, ConfigError } from "./load.js";
import { JSON_SCHEMA_PATH, renderJsonSchema } from "./json-schema.js";
import { secretMasker } from "../core/mask.js";

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("fills defaults for an empty file", () => {
    const cfg = parseConfig({});
    expect(cfg.decode.budgetMs).toBe(60);
    expect(cfg.trust.maxAgeS).toBe(172800);
    expect(cfg.display.heartbeatMs).toBe(2000);
    expect(cfg.server.listen.host).toBe("127.0.0.1");
    expect(cfg.cameras).toEqual([]);
  });

  it("reports every problem at once as path: problem (got 'value')", () => {
    const problems = problemsOf(() =>
      parseConfig({
        gateway: { id: "gw 1", colour: "blue" },
        cameras: [{ id: "cam1", lane: "nowhere", source: "rtsp", fps: 500 }],
        lanes: [{ id: "l1" }],
        bogus: 1,
      }),
    );
    expect(problems).toContain("bogus: unknown key (got '1')");
    expect(problems).toContain("gateway.colour: unknown key (got 'blue')");
    expect(problems.some((p) => p.startsWith("gateway.id:") && p.endsWith("(got 'gw 1')"))).toBe(true);
    expect(problems.some((p) => p.startsWith("cameras[cam1].fps:") && p.endsWith("(got '500')"))).toBe(true);
    expect(problems).toContain("cameras[cam1].url: required when source is rtsp (got nothing)");
    expect(problems).toContain("cameras[cam1].lane: no lane with this id (got 'nowhere')");
  });

  it("refuses lane and camera ids longer than the display and snapshot routes take (64)", () => {
    const long = "L".repeat(65);
    const problems = problemsOf(() => parseConfig({ lanes: [{ id: long }], cameras: [{ id: "C".repeat(65), lane: long, source: "file", file: "/x.ts" }] }));
    expect(problems.some((p) => p.startsWith("lanes[") && p.includes("at most 64"))).toBe(true);
    expect(problems.some((p) => p.startsWith("cameras[") && p.includes("at most 64"))).toBe(true);
    expect(() => parseConfig({ lanes: [{ id: "L".repeat(64) }] })).not.toThrow();
  });

  it("masks credentials of an invalid camera URL in the problem text", () => {
    const problems = problemsOf(() => parseConfig({ lanes: [{ id: "l1" }], cameras: [{ id: "c1", lane: "l1", url: "http://admin:topsecret@10.0.0.9/x" }] }));
    expect(problems.join("\n")).toContain("cameras[c1].url");
    expect(problems.join("\n")).not.toContain("topsecret");
  });

  it("suggests the nearest known key for a misspelt one", () => {
    const problems = problemsOf(() => parseConfig({ lanes: [{ id: "l1", flagHoldMS: 9000 }], decode: { budgetMS: 30 }, bogus: 1 }));
    expect(problems).toContain("lanes[l1].flagHoldMS: unknown key, did you mean 'flagHoldMs'? (got '9000')");
    expect(problems).toContain("decode.budgetMS: unknown key, did you mean 'budgetMs'? (got '30')");
    expect(problems).toContain("bogus: unknown key (got '1')");
  });

  it("never prints a secret that fails validation (finding: a too-short token was echoed)", () => {
    const token = "short-tok9";
    const problems = problemsOf(() => parseConfig({ server: { admin: { token } }, gateway: { hashSalt: "salt123" } }));
    const text = problems.join("\n");
    expect(text).toContain("server.admin.token:");
    expect(text).toContain("gateway.hashSalt:");
    expect(text).not.toContain(token);
    expect(text).not.toContain("salt123");
    // Registered before validation, so a log line that carries it later is masked too.
    expect(secretMasker.mask(`token=${token}`)).toBe("token=***");
  });

  it("never prints a secret from the environment that fails validation", () => {
    const problems = problemsOf(() => parseConfig({ gateway: { hashSalt: "${SALT_TOO_SHORT}" } }, { SALT_TOO_SHORT: "tiny-salt" }));
    expect(problems.join("\n")).toContain("gateway.hashSalt:");
    expect(problems.join("\n")).not.toContain("tiny-salt");
  });

  it("refuses an empty file and a file that is not a mapping", () => {
    expect(problemsOf(() => parseConfig(null))[0]).toMatch(/file is empty/);
    expect(problemsOf(() => parseConfig("just text"))[0]).toMatch(/expected a mapping of sections \(got string\)/);
    expect(problemsOf(() => parseConfig([1, 2]))[0]).toMatch(/\(got a list\)/);
  });

  it("substitutes ${ENV} and registers the value for masking", () => {
    const cfg = parseConfig(
      { lanes: [{ id: "l1" }], cameras: [{ id: "c1", lane: "l1", url: "rtsp://127.0.0.1/x", password: "${CAM_PW}" }] },
      { CAM_PW: "hunter2-secret" },
    );
    expect(cfg.cameras[0]!.password).toBe("hunter2-secret");
    expect(secretMasker.mask('{"msg":"pw hunter2-secret"}')).toBe('{"msg":"pw ***"}');
  });

  it("names a missing environment variable", () => {
    const problems = problemsOf(() => parseConfig({ gateway: { hashSalt: "${NOPE_NOT_SET}" } }, {}));
    expect(problems[0]).toBe("gateway.hashSalt: environment variable NOPE_NOT_SET is not set (got '${NOPE_NOT_SET}')");
  });

  it("bounds the timers a value would overflow (setTimeout takes at most 2^31-1 ms: beyond, it fires at once)", () => {
    const problems = problemsOf(() => parseConfig({ decode: { deadlineMs: 3_000_000_000 }, display: { heartbeatMs: 3_000_000_000 } }));
    expect(problems.some((p) => p.startsWith("decode.deadlineMs:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("display.heartbeatMs:"))).toBe(true);
    expect(() => parseConfig({ decode: { deadlineMs: 60_000 }, display: { heartbeatMs: 60_000 } })).not.toThrow();
  });

  it("refuses a Redis Cluster seed node whose port cannot exist", () => {
    const problems = problemsOf(() => parseConfig({ redis: { cluster: ["10.0.0.1:7000", "10.0.0.2:99999", "10.0.0.3"] } }));
    expect(problems.filter((p) => p.startsWith("redis.cluster") && p.includes("host:port, port 1-65535"))).toHaveLength(2);
    expect(() => parseConfig({ redis: { cluster: ["10.0.0.1:7000", "redis-b:65535"] } })).not.toThrow();
  });

  it("refuses what looks like an environment reference but is none, instead of using it as the value", () => {
    const env = { CAM_PW: "pw-from-env", CPGW_ACCESS_TOKEN: "t".repeat(30) };
    const problems = problemsOf(() =>
      parseConfig(
        {
          lanes: [{ id: "l1" }],
          cameras: [{ id: "c1", lane: "l1", url: "rtsp://127.0.0.1/x", password: "${CAM-PW}" }],
          server: { auth: { enabled: true, token: "${CPGW_ACCESS_TOKEN:-none-so-far-default-token}" } },
        },
        env,
      ),
    );
    expect(problems).toContain("cameras.0.password: '${CAM-PW}' is not an environment reference (${NAME}: letters, digits and _, no default or spaces)");
    expect(problems.some((p) => p.startsWith("server.auth.token: '${CPGW_ACCESS_TOKEN:-none-so-far-default-token}' is not an environment reference"))).toBe(true);
    // A value from the environment may itself hold "${": it is not read again.
    expect(() => parseConfig({ lanes: [{ id: "l1" }], cameras: [{ id: "c1", lane: "l1", url: "rtsp://127.0.0.1/x", password: "${CAM_PW}" }] }, { CAM_PW: "a${b}c" })).not.toThrow();
  });

  it("reports unreadable and non-YAML files as clear errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "gateway: [unclosed\n");
    expect(problemsOf(() => loadConfigFile(bad))[0]).toMatch(/not valid YAML/);
    expect(problemsOf(() => loadConfigFile(join(dir, "missing.yaml")))[0]).toMatch(/cannot read \(ENOENT\)/);
  });

  it("committed JSON Schema is up to date (run `npm run schema`)", () => {
    expect(readFileSync(JSON_SCHEMA_PATH, "utf8")).toBe(renderJsonSchema());
  });
});
