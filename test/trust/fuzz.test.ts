import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { parseRootKey } from "../../src/verify/trust/keys.js";
import { loadTrustSource } from "../../src/verify/trust/load-source.js";
import { RevocationIndex } from "../../src/verify/trust/revocation-index.js";
import { verifyTrustList, TrustListError } from "../../src/verify/trust/signed-list.js";
import { parseRevocationBody } from "../../src/verify/trust/sources/revocation-source.js";
import { SourceError } from "../../src/verify/trust/sources/errors.js";
import { createTarget, inputSeed, rng } from "../../bench/lib/fuzz-targets.js";
import { makeKeyPair, passEntry, signedList, tempDir } from "./helpers.js";

const tmp = tempDir("fuzz");
afterAll(() => tmp.cleanup());

/** Hostile input (what a lying server or a corrupt disk hands us) only ever yields our own errors. */
describe("trust inputs under random and mutated data", () => {
  it("deny list parsing: every line is either a hash in the index or a reported bad line", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.array(fc.oneof(fc.array(fc.constantFrom(..."0123456789abcdefABCDEF"), { minLength: 32, maxLength: 32 }).map((a) => a.join("")), fc.constantFrom("", "# c", " \t"), fc.string({ maxLength: 40 })), { maxLength: 12 }).map((l) => Buffer.from(l.join("\n")))), (bytes) => {
        const { index, badLines } = RevocationIndex.fromText(bytes);
        // Reference parser: lines split on LF, trimmed of space/tab/CR; blank and # lines ignored.
        const want: string[] = [];
        const bad: number[] = [];
        Buffer.from(bytes).toString("latin1").split("\n").forEach((raw, i) => {
          const l = raw.replace(/^[ \t\r]+|[ \t\r]+$/g, "");
          if (l === "" || l.startsWith("#")) return;
          if (/^[0-9a-fA-F]{32}$/.test(l)) want.push(l.toLowerCase());
          else bad.push(i + 1);
        });
        expect(badLines).toEqual(bad);
        expect(index.size).toBe(new Set(want).size);
        for (const h of want) expect(index.has(Buffer.from(h, "hex"))).toBe(true);
        const parsed = (() => {
          try {
            return { ok: parseRevocationBody(Buffer.from(bytes)) };
          } catch (e) {
            return { err: e };
          }
        })();
        if ("err" in parsed) expect(parsed.err).toBeInstanceOf(SourceError);
        else expect(parsed.ok.keys).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it("signed list verification: mutated JWS either fails with TrustListError or is the very list signed", async () => {
    const root = await makeKeyPair("root");
    const pinned = parseRootKey(JSON.stringify(root.pub));
    const good = await signedList(root.priv, 1, [(await passEntry("k")).entry]);
    const genuine = await verifyTrustList(good, pinned);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.tuple(fc.nat(good.length - 1), fc.constantFrom(...".-_AZaz09=+/ \n")).map(([i, c]) => good.slice(0, i) + c + good.slice(i + 1)),
          fc.nat(good.length).map((n) => good.slice(0, n)),
        ),
        async (text) => {
          const r = await verifyTrustList(text, pinned).then(
            (ok) => ({ ok }),
            (err: unknown) => ({ err }),
          );
          // Outside any try/catch, so a failed expectation is never swallowed.
          if ("err" in r) expect(r.err).toBeInstanceOf(TrustListError);
          else expect(r.ok.digest).toBe(genuine.digest); // only a re-spelling of the signed payload may verify
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("trust list and deny-list fuzz targets (as in npm run fuzz): per-input invariant over 10,000 inputs each", { timeout: 120_000 }, async () => {
    for (const format of ["list", "deny-list"] as const) {
      const target = await createTarget(format);
      let accepted = 0;
      for (let i = 0; i < 10_000; i++) {
        const input = target.input(rng(inputSeed(5, format, i)));
        const out = await target.run(input);
        expect(out.violation, `${format} #${i}`).toBeUndefined();
        if (out.pass) accepted++;
      }
      expect(accepted).toBeGreaterThan(0);
    }
  });

  it("CLI source loading of arbitrary file content yields GatewayErrors only", async () => {
    const file = join(tmp.dir, "input");
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)), fc.json().map((s) => Buffer.from(s))), async (bytes) => {
        writeFileSync(file, bytes);
        const r = await loadTrustSource(file).then(
          (ok) => ({ ok }),
          (err: unknown) => ({ err }),
        );
        if ("err" in r) expect(r.err).toBeInstanceOf(GatewayError);
        else expect(r.ok).toBeDefined();
      }),
      { numRuns: 500 },
    );
  });
});
