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
  it("masks a password holding a raw @ whole (clients split at the last @ of the authority)", () => {
    expect(maskUrl("rtsp://admin:Winter@2024!@10.0.0.5/h264 and more")).toBe("rtsp://***:***@10.0.0.5/h264 and more");
    expect(maskUrl("redis://:pa@ss@redis:6379")).toBe("redis://***:***@redis:6379");
    // An @ in the path or query is not user info.
    expect(maskUrl("http://host/a@b?x=c@d")).toBe("http://host/a@b?x=c@d");
  });
  it("takes linear time on long values (every log line goes through it)", () => {
    // Unbounded repeats made this quadratic: 80,000 letters took 5 s, a million would take minutes.
    const long = "a".repeat(1_000_000);
    const t = performance.now();
    expect(maskUrl(long)).toBe(long);
    expect(maskUrl(`?${"tokenx".repeat(100_000)}`)).toHaveLength(600_001);
    expect(maskUrl(`x1rtsp://u:p@h/ ${long}`)).toBe(`x1rtsp://***:***@h/ ${long}`);
    // A generous bound: linear is milliseconds, quadratic is minutes.
    expect(performance.now() - t).toBeLessThan(5000);
  });
  it("masks credentials carried in a URL's query", () => {
    expect(maskUrl("https://lists.example/deny.txt?access_token=s3cr3t&v=2")).toBe("https://lists.example/deny.txt?access_token=***&v=2");
    expect(maskUrl("https://h/k?X-Amz-Signature=abc123#frag")).toBe("https://h/k?X-Amz-Signature=***#frag");
    expect(maskUrl("https://h/k?apikey=zz&password=pw&page=3")).toBe("https://h/k?apikey=***&password=***&page=3");
    expect(maskUrl("https://h/k?page=3&sort=asc")).toBe("https://h/k?page=3&sort=asc");
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
