import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";

describe("example configs", () => {
  it("config/demo.yaml is valid and needs no environment", () => {
    const cfg = loadConfigFile("config/demo.yaml", {});
    expect(cfg.cameras.map((c) => c.source)).toEqual(["file", "file"]);
    expect(cfg.redis).toBeUndefined();
  });

  it("config/example.yaml is valid once its secrets are in the environment", () => {
    const env = { CPGW_HASH_SALT: "s".repeat(32), CPGW_ADMIN_TOKEN: "t".repeat(32), CPGW_ACCESS_TOKEN: "a".repeat(32), CAM_USER: "u", CAM_PASSWORD: "p", REDIS_PASSWORD: "r", MQTT_PASSWORD: "m" };
    const cfg = loadConfigFile("config/example.yaml", env);
    expect(cfg.lanes).toHaveLength(2);
    expect(() => loadConfigFile("config/example.yaml", {})).toThrow(/CPGW_HASH_SALT/);
  });
});
