import { describe, expect, it } from "vitest";
import { maskUrl, SecretMasker } from "./mask.js";
import { shortHash } from "./hash.js";

describe("masking", () => {
  it("masks credentials in URLs of any scheme", () => {
    expect(maskUrl("rtsp://admin:p%40ss@10.0.0.5:554/Streaming/101")).toBe("rtsp://***:***@10.0.0.5:554/Streaming/101");
    expect(maskUrl("redis://:tok@host:6379")).toBe("redis://***:***@host:6379");
    expect(maskUrl("rtsp://user@host/x")).toBe("rtsp://***@host/x");
    expect(maskUrl("rtsp://host/x")).toBe("rtsp://host/x");
  });
  it("masks registered secrets, also URL- and JSON-encoded", () => {
    const m = new SecretMasker();
    m.add("p@ss\"word", "abc");
    expect(m.mask('x p@ss\\"word y p%40ss%22word z abc')).toBe("x *** y *** z abc");
  });
  it("short hash is salted and stable", () => {
    expect(shortHash("id", "s1")).toBe(shortHash("id", "s1"));
    expect(shortHash("id", "s1")).not.toBe(shortHash("id", "s2"));
    expect(shortHash("id", "s1")).toMatch(/^[0-9a-f]{16}$/);
  });
});
