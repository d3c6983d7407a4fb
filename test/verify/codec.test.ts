/** Bounded codecs: base45 (RFC 9285 vectors), inflate caps, CBOR limits checked before decoding, JSON bounds. */
import { deflateRawSync, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { base45Decode, base45Encode } from "../../src/verify/codec/base45.js";
import { checkCbor, decodeCbor } from "../../src/verify/codec/cbor.js";
import { inflateRaw, inflateZlib } from "../../src/verify/codec/inflate.js";
import { parseJsonBounded } from "../../src/verify/codec/json.js";
import { VerifyFailure } from "../../src/verify/reasons.js";
import { createVerifier, LIMITS } from "../../src/verify/index.js";
import { MemoryTrust } from "../../src/verify/testing/memory-trust.js";
import { jwsToNumeric } from "../../src/verify/shc/numeric.js";

function reasonOf(fn: () => unknown): string {
  try {
    fn();
    return "none";
  } catch (e) {
    if (e instanceof VerifyFailure) return e.reason;
    throw e;
  }
}

const verifier = createVerifier({ trust: () => new MemoryTrust(), salt: "s", clockSkewS: 0 });
const verify = (t: string) => verifier.verify(t, { nowMs: 0 });

describe("base45", () => {
  it("RFC 9285 examples", () => {
    expect(base45Encode(Buffer.from("AB"))).toBe("BB8");
    expect(base45Encode(Buffer.from("Hello!!"))).toBe("%69 VD92EX0");
    expect(base45Encode(Buffer.from("base-45"))).toBe("UJCLQE7W581");
    expect(Buffer.from(base45Decode("QED8WEX0")).toString()).toBe("ietf!");
  });
  it("rejects bad characters, lengths and out-of-range groups", () => {
    expect(reasonOf(() => base45Decode("GGW"))).toBe("BASE45_INVALID"); // 65535 < GGW = 65536? (G=16: 16+16*45+32*2025)
    expect(reasonOf(() => base45Decode("ab"))).toBe("BASE45_INVALID");
    expect(reasonOf(() => base45Decode("A"))).toBe("BASE45_INVALID");
    expect(reasonOf(() => base45Decode(":::"))).toBe("BASE45_INVALID");
    expect(reasonOf(() => base45Decode("é00"))).toBe("BASE45_INVALID");
  });
  it("round-trips random bytes", () => {
    for (let n = 0; n < 50; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 13) & 0xff);
      expect(Buffer.from(base45Decode(base45Encode(b)))).toEqual(Buffer.from(b));
    }
  });
});

describe("bounded inflate", () => {
  it("a zlib bomb stops at the cap with SIZE_LIMIT", () => {
    const bomb = deflateSync(Buffer.alloc(50 * 1024 * 1024), { level: 9 }); // 50 MB of zeros in ~50 KB
    expect(reasonOf(() => inflateZlib(bomb))).toBe("SIZE_LIMIT");
    expect(reasonOf(() => inflateRaw(deflateRawSync(Buffer.alloc(LIMITS.maxInflatedBytes + 1))))).toBe("SIZE_LIMIT");
    expect(inflateZlib(deflateSync(Buffer.alloc(LIMITS.maxInflatedBytes))).length).toBe(LIMITS.maxInflatedBytes);
  });
  it("corrupt and truncated streams are DECOMPRESS_FAILED", () => {
    const z = deflateSync(Buffer.from("hello hello hello"));
    expect(reasonOf(() => inflateZlib(z.subarray(0, z.length - 3)))).toBe("DECOMPRESS_FAILED");
    expect(reasonOf(() => inflateZlib(Buffer.from([0x78, 0x9c, 0xff, 0xff])))).toBe("DECOMPRESS_FAILED");
  });
  it("compression bombs through the verifier: HC1 and VN1 zlib, shc raw DEFLATE", () => {
    const zbomb = base45Encode(deflateSync(Buffer.alloc(4 * 1024 * 1024), { level: 9 }));
    expect(zbomb.length).toBeLessThan(LIMITS.maxTextChars);
    expect(verify("HC1:" + zbomb).reason).toBe("SIZE_LIMIT");
    expect(verify("VN1:" + zbomb).reason).toBe("SIZE_LIMIT");
    const header = Buffer.from(JSON.stringify({ zip: "DEF", alg: "ES256", kid: "k" })).toString("base64url");
    const body = deflateRawSync(Buffer.alloc(2 * 1024 * 1024, 0x20), { level: 9 }).toString("base64url");
    const jws = `${header}.${body}.${"A".repeat(86)}`;
    expect(jws.length * 2).toBeLessThan(LIMITS.maxShcAssembledChars);
    expect(verify("shc:/" + jwsToNumeric(jws)).reason).toBe("SIZE_LIMIT");
  });
  it("oversized QR text is refused before any decoding", () => {
    expect(verify("HC1:" + "0".repeat(LIMITS.maxTextChars)).reason).toBe("SIZE_LIMIT");
  });
});

describe("bounded CBOR", () => {
  const nested = (depth: number) => Uint8Array.from([...Array<number>(depth).fill(0x81), 0x00]);
  it("nesting deeper than the limit is SIZE_LIMIT, checked before cbor-x", () => {
    expect(reasonOf(() => checkCbor(nested(LIMITS.maxCborDepth)))).toBe("none");
    expect(reasonOf(() => decodeCbor(nested(LIMITS.maxCborDepth + 1)))).toBe("SIZE_LIMIT");
    expect(reasonOf(() => decodeCbor(nested(100_000)))).toBe("SIZE_LIMIT");
  });
  it("too many items, and counts larger than the input, are refused", () => {
    const many = Uint8Array.from([0x99, 0x20, 0x00, ...Array<number>(0x2000).fill(0x00)]); // array of 8192 zeros
    expect(reasonOf(() => decodeCbor(many))).toBe("SIZE_LIMIT");
    expect(reasonOf(() => decodeCbor(Uint8Array.from([0x9b, 0, 0, 0, 1, 0, 0, 0, 0])))).toBe("SIZE_LIMIT");
    expect(reasonOf(() => decodeCbor(Uint8Array.from([0x9a, 0, 0, 1, 0, 0])))).toBe("STRUCTURE_INVALID");
    expect(reasonOf(() => decodeCbor(Uint8Array.from([0x5a, 0xff, 0xff, 0xff, 0xff])))).toBe("SIZE_LIMIT");
  });
  it("truncation, trailing bytes, stray breaks, reserved info are STRUCTURE_INVALID", () => {
    for (const b of [[0x82, 0x01], [0x01, 0x02], [0xff], [0x1c], [0x5f, 0x01], [0x9f, 0x01], [0xbf, 0x01, 0xff]]) {
      expect(reasonOf(() => decodeCbor(Uint8Array.from(b))), JSON.stringify(b)).toBe("STRUCTURE_INVALID");
    }
  });
  it("only credential tags are allowed: extension tags (BigInt, generic objects, shared refs) are refused", () => {
    const bigint = Uint8Array.from([0xc2, 0x59, 0x80, 0x00, ...new Uint8Array(0x8000).fill(0xff)]); // tag 2 over 32 KiB
    expect(reasonOf(() => decodeCbor(bigint))).toBe("STRUCTURE_INVALID");
    for (const tag of [[0xd8, 27], [0xd8, 28], [0xd8, 29], [0xd8, 51], [0xd9, 0x01, 0x02], [0xd9, 0x01, 0x03]]) {
      expect(reasonOf(() => decodeCbor(Uint8Array.from([...tag, 0x80]))), JSON.stringify(tag)).toBe("STRUCTURE_INVALID");
    }
    expect(decodeCbor(Uint8Array.from([0xd2, 0x80]))).toBeTruthy();
  });

  it("indefinite-length items inside the limits decode", () => {
    expect(decodeCbor(Uint8Array.from([0x9f, 0x01, 0x02, 0xff]))).toEqual([1, 2]);
    expect(decodeCbor(Uint8Array.from([0xbf, 0x01, 0x02, 0xff]))).toEqual(new Map([[1, 2]]));
    // cbor-x does not decode indefinite-length strings: that is a clean reason, not a throw.
    expect(reasonOf(() => decodeCbor(Uint8Array.from([0x7f, 0x61, 0x61, 0x61, 0x62, 0xff])))).toMatch(/none|STRUCTURE_INVALID/);
  });
});

describe("bounded JSON", () => {
  it("size and depth", () => {
    expect(reasonOf(() => parseJsonBounded(" ".repeat(LIMITS.maxJsonChars + 1)))).toBe("SIZE_LIMIT");
    expect(reasonOf(() => parseJsonBounded("[".repeat(40) + "]".repeat(40)))).toBe("SIZE_LIMIT");
    expect(reasonOf(() => parseJsonBounded("{bad"))).toBe("STRUCTURE_INVALID");
  });
});
