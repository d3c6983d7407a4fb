/**
 * Fuzzing the verifier in-process (the 10^6 run is `npm run fuzz`, bench/fuzz.ts, same targets).
 * Each input is checked on its own (issue #11.14): no throw, no INTERNAL_ERROR, every reason in the
 * catalogue, and never PASS for a credential we did not sign (bench/lib/fuzz-targets.ts). Seeded per
 * input, so a failure names an input that reproduces alone. Memory must stay bounded.
 */
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { createTarget, inputSeed, passTarget, rng, verdictOutcome, type FuzzFormat, type FuzzTarget } from "../../bench/lib/fuzz-targets.js";

const PER_FORMAT = 50_000;
/** A few seconds of CPU per format; generous for a loaded 2-core CI, still catches a hang. */
const TIMEOUT_MS = 180_000;
const SEED = 11;

/** GC on demand (without --expose-gc) so memory growth is measured on live objects, not garbage. */
v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/** Runs n inputs; returns the first invariant violation (or undefined) and the reason counts. */
export async function fuzz(target: FuzzTarget, n: number, seed = SEED) {
  const reasons: Record<string, number> = {};
  let signedPasses = 0;
  for (let i = 0; i < n; i++) {
    const input = target.input(rng(inputSeed(seed, target.format, i)));
    const out = await target.run(input);
    reasons[out.reason] = (reasons[out.reason] ?? 0) + 1;
    if (out.pass && input.signed) signedPasses++;
    if (out.violation) return { violation: `${target.format} #${i} (seed ${seed}): ${out.violation.kind}: ${out.violation.detail}`, reasons, signedPasses };
  }
  return { violation: undefined, reasons, signedPasses };
}

async function runFormat(format: FuzzFormat) {
  const target = await createTarget(format);
  const before = heapMb();
  const res = await fuzz(target, PER_FORMAT);
  return { ...res, growthMb: heapMb() - before };
}

describe("fuzz: per-input invariant, bounded memory", () => {
  it(`checkpoint pass (VN1:) x ${PER_FORMAT}`, { timeout: TIMEOUT_MS }, async () => {
    const res = await runFormat("pass");
    expect(res.violation).toBeUndefined();
    expect(res.reasons.STRUCTURE_INVALID).toBeGreaterThan(500);
    expect(res.reasons.SIGNATURE_INVALID).toBeGreaterThan(500);
    expect(res.signedPasses).toBeGreaterThan(0); // the post-signature parsers were reached
    expect(res.growthMb).toBeLessThan(32);
  });

  it(`EU DCC (HC1:) x ${PER_FORMAT}`, { timeout: TIMEOUT_MS }, async () => {
    const res = await runFormat("dcc");
    expect(res.violation).toBeUndefined();
    expect(res.reasons.STRUCTURE_INVALID).toBeGreaterThan(500);
    expect(res.reasons.BASE45_INVALID).toBeGreaterThan(500);
    expect(res.reasons.SIGNATURE_INVALID).toBeGreaterThan(500);
    expect(res.growthMb).toBeLessThan(32);
  });

  it(`SMART Health Cards (shc:/) x ${PER_FORMAT}`, { timeout: TIMEOUT_MS }, async () => {
    const res = await runFormat("shc");
    expect(res.violation).toBeUndefined();
    expect(res.reasons.NUMERIC_INVALID).toBeGreaterThan(500);
    expect(res.reasons.STRUCTURE_INVALID).toBeGreaterThan(500);
    expect(res.growthMb).toBeLessThan(32);
  });

  it("the per-input invariant reports a planted unsigned PASS that a pass count would hide", async () => {
    // A broken verifier: a SIGNATURE_INVALID whose text length is a multiple of 7 comes out as PASS (a few per thousand).
    const broken = passTarget((verify) => (t) => {
      const v = verify(t);
      return v.reason === "SIGNATURE_INVALID" && t.length % 7 === 0 ? { ...v, verdict: "PASS", reason: "OK", credentialHash: "forged" } : v;
    });
    const res = await fuzz(broken, 20_000);
    expect(res.violation).toMatch(/^pass #\d+ \(seed 11\): unsigned-pass: PASS for a credential we did not sign$/);
  });

  it("verdictOutcome: PASS is fine for inputs we signed and re-spellings of the genuine credential only", () => {
    const pass = { verdict: "PASS", reason: "OK", format: "pass", credentialHash: "h-other" } as const;
    expect(verdictOutcome(pass, { text: "x", signed: true }, "h-genuine").violation).toBeUndefined();
    expect(verdictOutcome({ ...pass, credentialHash: "h-genuine" }, { text: "x", signed: false }, "h-genuine").violation).toBeUndefined();
    expect(verdictOutcome(pass, { text: "x", signed: false }, "h-genuine").violation?.kind).toBe("unsigned-pass");
    expect(verdictOutcome({ verdict: "ERROR", reason: "INTERNAL_ERROR", format: "pass" }, { text: "x", signed: false }, "h").violation?.kind).toBe("crash");
    expect(verdictOutcome({ verdict: "FLAG", reason: "OK", format: "pass" }, { text: "x", signed: false }, "h").violation?.kind).toBe("crash");
  });
});
