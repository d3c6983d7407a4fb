/** docs/reasons.md and the REASONS catalogue must list the same codes, with the same meaning. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REASONS } from "../../src/verify/index.js";

const doc = readFileSync("docs/reasons.md", "utf8");
const rows = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \| [^|]+ \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!] as const);

describe("reason codes", () => {
  it("docs/reasons.md lists exactly the codes in src/verify/reasons.ts, with the same text", () => {
    expect(rows.map(([c]) => c).sort()).toEqual(Object.keys(REASONS).sort());
    for (const [code, meaning] of rows) expect(meaning, code).toBe(REASONS[code as keyof typeof REASONS]);
  });

  it("includes every code the issue requires", () => {
    const required = ["OK", "PREFIX_UNKNOWN", "BASE45_INVALID", "DECOMPRESS_FAILED", "SIZE_LIMIT", "STRUCTURE_INVALID", "KID_MISSING", "KEY_UNKNOWN", "ALG_UNSUPPORTED", "ALG_KEY_MISMATCH", "SIGNATURE_INVALID", "NOT_YET_VALID", "EXPIRED", "KEY_USAGE_MISMATCH", "ISSUER_UNTRUSTED", "REVOKED", "TRUST_STALE", "POLICY_REJECTED", "FORMAT_NOT_ACCEPTED", "SHC_CHUNKS_INCOMPLETE", "REPLAYED"];
    for (const c of required) expect(Object.keys(REASONS), c).toContain(c);
  });

  it("codes are UPPER_SNAKE and meanings never empty", () => {
    for (const [c, m] of Object.entries(REASONS)) {
      expect(c).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(m.length).toBeGreaterThan(20);
    }
  });
});
