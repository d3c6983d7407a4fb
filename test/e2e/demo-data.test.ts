import { execFileSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeImageFile } from "../../src/decode/index.js";
import { createVerifier } from "../../src/verify/index.js";
import { listContent, verifyTrustList } from "../../src/verify/trust/signed-list.js";
import { MemoryTrust } from "../../src/verify/testing/memory-trust.js";
import { shortHash } from "../../src/core/hash.js";

/**
 * The committed demo must keep working for years: each presentation in each clip decodes and
 * verifies (today, and 10 years from now) to what the manifest promises. REPLAYED is the lane's
 * decision: the verifier itself says PASS for that presentation.
 */
const DIR = "test-fixtures/demo";
interface Manifest {
  lanes: Record<string, Array<{ startS: number; endS: number; expect: string; payloadSha: string }>>;
}

describe("committed demo data", () => {
  const tmp = mkdtempSync(join(tmpdir(), "demo-data-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("every presentation decodes and verifies as the manifest says, now and in 10 years", async () => {
    expect(existsSync(join(DIR, "manifest.json"))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")) as Manifest;
    const jwk = JSON.parse(readFileSync(join(DIR, "root.pub.jwk.json"), "utf8")) as Record<string, unknown>;
    const list = await verifyTrustList(readFileSync(join(DIR, "trust-list.jws"), "utf8"), { key: createPublicKey({ key: jwk as never, format: "jwk" }) });
    expect(list.payload.expiresAt).toBeUndefined();
    const trust = new MemoryTrust((await listContent(list.payload, "file")).keys);
    const verifier = createVerifier({ trust: () => trust, salt: "demo-data-test-salt", clockSkewS: 120 });
    const seen: string[] = [];
    for (const [lane, ps] of Object.entries(manifest.lanes)) {
      for (const p of ps) {
        const png = join(tmp, `${lane}-${p.startS}.png`);
        execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-ss", String((p.startS + p.endS) / 2), "-i", join(DIR, `${lane}.ts`), "-frames:v", "1", png]);
        const { codes } = await decodeImageFile(png);
        expect(codes).toHaveLength(1);
        expect(shortHash(codes[0]!.text, "demo-manifest-salt")).toBe(p.payloadSha);
        for (const years of [0, 10]) {
          const v = verifier.verify(codes[0]!.text, { nowMs: Date.now() + years * 365 * 86_400_000 });
          const want = p.expect === "FLAG REPLAYED" ? "PASS OK" : p.expect;
          expect(`${v.verdict} ${v.reason}`, `${lane} at ${p.startS}s, +${years}y`).toBe(want);
        }
        seen.push(p.expect);
      }
    }
    expect(seen.sort()).toEqual(["FLAG EXPIRED", "FLAG KEY_UNKNOWN", "FLAG REPLAYED", "FLAG SIGNATURE_INVALID", "PASS OK", "PASS OK"]);
  });
});

describe("committed demo trust data stays fresh", () => {
  it("the demo's file trust list counts as fresh after every re-read, long past maxAgeS", async () => {
    const { FakeClock } = await import("../../src/core/clock.js");
    const { silentLogger } = await import("../../src/core/logger.js");
    const { createTrustStore } = await import("../../src/verify/trust/index.js");
    const { loadConfigFile } = await import("../../src/config/load.js");
    const cfg = loadConfigFile("config/demo.yaml", {});
    const stateDir = mkdtempSync(join(tmpdir(), "demo-trust-"));
    const clock = new FakeClock(Date.now());
    const store = await createTrustStore({ config: cfg.trust, stateDir, clock, logger: silentLogger, random: () => 0.5 });
    try {
      await store.start();
      expect(store.status().stale).toBe(false);
      // Ten years later (the clock jumps; the refresh timer fires and re-reads the file).
      clock.advance(10 * 365 * 86_400_000);
      await store.refreshNow();
      const st = store.status();
      expect(st.stale).toBe(false);
      expect(st.sources.every((s) => s.ok)).toBe(true);
    } finally {
      await store.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
