/**
 * Issue #11.4: the replay key comes from the canonical credential, never from its spelling. For each
 * format, a genuine credential is re-spelled without the issuer's key (spare encoding bits flipped,
 * the ECDSA (r, n-s) twin, unsigned COSE parts or compression changed): each spelling still verifies
 * PASS, and presenting it after the original inside the window must be REPLAYED.
 */
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { deflateRawSync, deflateSync, inflateRawSync, inflateSync } from "node:zlib";
import { decode, Tag } from "cbor-x";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import type { Verdict } from "../../src/core/types.js";
import { asReplay } from "../../src/lane/event.js";
import { LocalReplayGuard } from "../../src/lane/replay-guard.js";
import { base45Decode, base45Encode } from "../../src/verify/codec/base45.js";
import { encodeCbor } from "../../src/verify/pass/issue-pass.js";
import { createVerifier, issuePass } from "../../src/verify/index.js";
import { jwsToNumeric, numericToJws } from "../../src/verify/shc/numeric.js";
import { MemoryTrust } from "../../src/verify/testing/memory-trust.js";
import { loadDccVectors } from "./support/dcc-vectors.js";
import { signedCoseText } from "../../bench/lib/fuzz-targets.js";
import { makeKey, NOW, typicalPass } from "./support/pass.js";
import { readShc, SHC_AT, shcTrust } from "./support/shc.js";

const N = BigInt("0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");

/** The other valid ECDSA signature over the same message: (r, n - s). */
export function ecdsaTwin(sig: Uint8Array): Uint8Array {
  const s = BigInt("0x" + Buffer.from(sig.subarray(32, 64)).toString("hex"));
  const twin = Buffer.from((N - s).toString(16).padStart(64, "0"), "hex");
  return Uint8Array.from(Buffer.concat([Buffer.from(sig.subarray(0, 32)), twin]));
}

/** base45(zlib?) COSE_Sign1 text -> its parts. */
function coseParts(text: string, prefix: string): { prot: Uint8Array; unprot: Map<unknown, unknown>; payload: Uint8Array; sig: Uint8Array } {
  const raw = base45Decode(text.slice(prefix.length));
  const bytes = raw[0] === 0x78 ? inflateSync(raw) : raw;
  let msg = decode(bytes) as Tag | unknown[];
  if (msg instanceof Tag) msg = msg.value as unknown[];
  const [prot, unprot, payload, sig] = msg as [Uint8Array, Map<unknown, unknown> | Record<string, unknown>, Uint8Array, Uint8Array];
  return { prot, unprot: unprot instanceof Map ? unprot : new Map(Object.entries(unprot)), payload, sig };
}

function coseText(prefix: string, p: ReturnType<typeof coseParts>, o: { sig?: Uint8Array; unprot?: Map<unknown, unknown>; zlibLevel?: number | "none" } = {}): string {
  const cose = encodeCbor(new Tag([p.prot, o.unprot ?? p.unprot, p.payload, o.sig ?? p.sig], 18));
  const body = o.zlibLevel === "none" ? cose : deflateSync(cose, { level: o.zlibLevel ?? 9 });
  return prefix + base45Encode(body);
}

/** Re-spellings of a COSE credential that keep the issuer's signature valid. */
function coseVariants(prefix: string, original: string): Record<string, string> {
  const p = coseParts(original, prefix);
  return {
    "ECDSA (r, n-s) twin": coseText(prefix, p, { sig: ecdsaTwin(p.sig) }),
    "unsigned header field added": coseText(prefix, p, { unprot: new Map<unknown, unknown>([...p.unprot, [-65000, new Uint8Array([1, 2, 3])]]) }),
    "other zlib level": coseText(prefix, p, { zlibLevel: 1 }),
    "uncompressed": coseText(prefix, p, { zlibLevel: "none" }),
    "twin, uncompressed": coseText(prefix, p, { sig: ecdsaTwin(p.sig), zlibLevel: "none" }),
  };
}

/** Re-spellings of an SHC: flipped spare bits of the last base64url character, and the twin. */
function shcVariants(original: string): Record<string, string> {
  const jws = numericToJws(original.slice("shc:/".length));
  const [h, p, s] = jws.split(".") as [string, string, string];
  const sig = Buffer.from(s, "base64url");
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // 64 bytes = 86 characters carrying 516 bits: the last character has 4 bits nobody signed.
  const last = A.indexOf(s.at(-1)!);
  const spare = (bits: number) => `${h}.${p}.${s.slice(0, -1)}${A[last ^ bits]}`;
  const twin = Buffer.from(ecdsaTwin(sig)).toString("base64url");
  const payloadAgain = deflateRawSync(inflateRawSync(Buffer.from(p, "base64url")), { level: 1 }).toString("base64url");
  expect(payloadAgain).not.toBe(p); // a different spelling of the same payload would need a new signature: not a variant
  return {
    "spare bits 0001": "shc:/" + jwsToNumeric(spare(1)),
    "spare bits 1111": "shc:/" + jwsToNumeric(spare(15)),
    "ECDSA (r, n-s) twin": "shc:/" + jwsToNumeric(`${h}.${p}.${twin}`),
    "twin with spare bits": "shc:/" + jwsToNumeric(`${h}.${p}.${twin.slice(0, -1)}${A[A.indexOf(twin.at(-1)!) ^ 5]}`),
  };
}

async function expectReplayed(verify: (t: string) => Verdict, original: string, variants: Record<string, string>): Promise<void> {
  const first = verify(original);
  expect(first.verdict, "original").toBe("PASS");
  // A re-spelling equal to the original (e.g. "uncompressed" of an uncompressed pass) proves nothing.
  const distinct = Object.entries(variants).filter(([, t]) => t !== original);
  expect(distinct.length).toBeGreaterThanOrEqual(3);
  for (const [name, text] of distinct) {
    const v = verify(text);
    expect({ name, verdict: v.verdict, reason: v.reason }).toEqual({ name, verdict: "PASS", reason: "OK" });
    // What the lane does (lane.ts decide): the first PASS claims the credential, the next one replays.
    const guard = new LocalReplayGuard(new FakeClock(), 600_000);
    expect((await guard.claim(first.credentialHash!, "gate-1")).replayed).toBe(false);
    const claim = await guard.claim(v.credentialHash!, "gate-2");
    const shown = claim.replayed ? asReplay(v) : v;
    expect({ name, verdict: shown.verdict, reason: shown.reason }).toEqual({ name, verdict: "FLAG", reason: "REPLAYED" });
  }
}

describe("replay key is the canonical credential (every format)", () => {
  it("VN1 pass: twin and recompressed spellings are REPLAYED; an unsigned header field is no pass at all", async () => {
    const key = makeKey("rk");
    const trust = new MemoryTrust([{ kid: "rk", issuer: "VN-MOH", formats: ["pass"], key: createPublicKey(key.privateKey), source: "test" }]);
    const verifier = createVerifier({ trust: () => trust, salt: "s", clockSkewS: 60 });
    const good = issuePass(typicalPass(), "rk", key.privateKey);
    const { "unsigned header field added": unsigned, ...variants } = coseVariants("VN1:", good);
    // The pass layout fixes an empty unprotected header (docs/checkpoint-pass.md).
    expect(verifier.verify(unsigned!, { nowMs: NOW })).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    await expectReplayed((t) => verifier.verify(t, { nowMs: NOW }), good, variants);
  });

  it("EU DCC: twin, unsigned header and recompressed spellings are REPLAYED", async () => {
    const vec = loadDccVectors().find((x) => x.name === "DE/2DCode/raw/1.json")!;
    const payload = coseParts(vec.prefix, "HC1:").payload;
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const kid = Buffer.from("replay01");
    const trust = new MemoryTrust([{ kid: kid.toString("base64"), issuer: "DE", formats: ["dcc"], key: publicKey, source: "test" }]);
    const verifier = createVerifier({ trust: () => trust, salt: "s", clockSkewS: 60 });
    const good = signedCoseText("HC1:", payload, kid, privateKey, true);
    await expectReplayed((t) => verifier.verify(t, { nowMs: vec.clockMs! }), good, coseVariants("HC1:", good));
  });

  it("SMART Health Card without rid (spec example 01): spare bits and twin are REPLAYED", async () => {
    const trust = shcTrust();
    const verifier = createVerifier({ trust: () => trust, salt: "s", clockSkewS: 60 });
    const good = readShc("example-01-f-qr-code-numeric-value-0.txt");
    await expectReplayed((t) => verifier.verify(t, { nowMs: SHC_AT }), good, shcVariants(good));
  });
});
