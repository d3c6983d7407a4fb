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
import { makeKeyPair, passEntry, signedList, tempDir } from "./helpers.js";

const tmp = tempDir("fuzz");
afterAll(() => tmp.cleanup());

/** Hostile input (what a lying server or a corrupt disk hands us) only ever yields our own errors. */
describe("trust inputs under random and mutated data", () => {
  it("deny list parsing never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const { index, badLines } = RevocationIndex.fromText(bytes);
        expect(index.size + badLines.length).toBeGreaterThanOrEqual(0);
        try {
          parseRevocationBody(Buffer.from(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(SourceError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("signed list verification rejects random and mutated JWS with TrustListError only", async () => {
    const root = await makeKeyPair("root");
    const pinned = parseRootKey(JSON.stringify(root.pub));
    const good = await signedList(root.priv, 1, [(await passEntry("k")).entry]);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.tuple(fc.nat(good.length - 1), fc.constantFrom(...".-_AZaz09=+/ \n")).map(([i, c]) => good.slice(0, i) + c + good.slice(i + 1)),
          fc.nat(good.length).map((n) => good.slice(0, n)),
        ),
        async (text) => {
          try {
            const v = await verifyTrustList(text, pinned);
            expect(v.payload.version).toBe(1); // only a mutation that keeps the bytes valid may pass
          } catch (e) {
            expect(e).toBeInstanceOf(TrustListError);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("CLI source loading of arbitrary file content yields GatewayErrors only", async () => {
    const file = join(tmp.dir, "input");
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)), fc.json().map((s) => Buffer.from(s))), async (bytes) => {
        writeFileSync(file, bytes);
        try {
          await loadTrustSource(file);
        } catch (e) {
          expect(e).toBeInstanceOf(GatewayError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
