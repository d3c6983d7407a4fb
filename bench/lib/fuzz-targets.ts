/**
 * Fuzz targets shared by `npm run fuzz` (bench/fuzz.ts, 10^6 inputs per format on worker threads)
 * and the in-suite fuzz tests (test/verify/fuzz.test.ts, fewer inputs). Every input is generated
 * from (seed, format, index) alone, so any failure is reproducible on its own, and every input is
 * checked against the invariant on its own:
 *
 *   - no throw, no INTERNAL_ERROR, every reason in the catalogue, PASS only with reason OK;
 *   - never PASS (never accept a list) that we did not sign: a PASS is allowed only for an input we
 *     re-signed ourselves, or for a re-spelling of the genuine credential (same canonical credential:
 *     same credentialHash; for lists: same signed payload digest).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { deflateRawSync, deflateSync, inflateSync } from "node:zlib";
import { Decoder, Tag } from "cbor-x";
import type { Verdict } from "../../src/core/types.js";
import { base45Decode, base45Encode } from "../../src/verify/codec/base45.js";
import { sigStructure } from "../../src/verify/codec/cose.js";
import { createVerifier, issuePass, REASONS, shcKeysFromJwks, type PassClaims } from "../../src/verify/index.js";
import { encodeCbor } from "../../src/verify/pass/issue-pass.js";
import { jwsToNumeric } from "../../src/verify/shc/numeric.js";
import { MemoryTrust } from "../../src/verify/testing/memory-trust.js";
import { parseRootKey } from "../../src/verify/trust/keys.js";
import { RevocationIndex } from "../../src/verify/trust/revocation-index.js";
import { listContent, signTrustList, TRUST_LIST_TYP, TrustListError, verifyTrustList } from "../../src/verify/trust/signed-list.js";
import { SourceError } from "../../src/verify/trust/sources/errors.js";
import { parseRevocationBody } from "../../src/verify/trust/sources/revocation-source.js";
import { rng, type Rng } from "../../scripts/frames-render.js";

export const FORMATS = ["pass", "dcc", "shc", "list", "deny-list"] as const;
export type FuzzFormat = (typeof FORMATS)[number];

/** The seeded mulberry32 PRNG the frame generator uses: one copy, and seeds mean the same everywhere. */
export { rng };
export type Rand = Rng;

/** The seed of one input: independent of every other input, so a worker can start anywhere. */
export function inputSeed(seed: number, format: FuzzFormat, index: number): number {
  return (Math.imul(seed, 0x9e3779b1) ^ Math.imul(FORMATS.indexOf(format) + 1, 0x85ebca77) ^ Math.imul(index, 0xc2b2ae3d)) >>> 0;
}

export const int = (r: Rand, n: number) => Math.floor(r() * n);

/** Interesting CBOR heads: huge lengths, indefinite items, tags, breaks, floats. */
const CBOR_SPICE = [0x9b, 0x9a, 0xbb, 0x5b, 0x7b, 0x9f, 0xbf, 0x5f, 0x7f, 0xff, 0xd2, 0xd8, 0xc0, 0xc1, 0xf9, 0xfb, 0x1f, 0x3f, 0x18, 0x19, 0x1a, 0x1b];

export function mutateBytes(r: Rand, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  const n = 1 + int(r, 4);
  for (let k = 0; k < n; k++) {
    const op = int(r, 7);
    const i = b.length ? int(r, b.length) : 0;
    if (op === 0 && b.length) b[i] = b[i]! ^ (1 << int(r, 8));
    else if (op === 1 && b.length) b[i] = int(r, 256);
    else if (op === 2) b.splice(i, 0, CBOR_SPICE[int(r, CBOR_SPICE.length)]!);
    else if (op === 3) b.splice(i, 1 + int(r, 8));
    else if (op === 4) b.length = Math.max(0, i);
    else if (op === 5 && b.length) b.splice(i, 0, ...b.slice(int(r, b.length), int(r, b.length) + 16));
    else b.splice(i, 0, ...Array.from({ length: 1 + int(r, 8) }, () => int(r, 256)));
  }
  return Uint8Array.from(b);
}

export function mutateText(r: Rand, s: string, alphabet: string): string {
  let t = s;
  const n = 1 + int(r, 4);
  for (let k = 0; k < n; k++) {
    const i = int(r, t.length + 1);
    const c = alphabet[int(r, alphabet.length)]!;
    const op = int(r, 4);
    if (op === 0) t = t.slice(0, i) + c + t.slice(i + 1);
    else if (op === 1) t = t.slice(0, i) + c + t.slice(i);
    else if (op === 2) t = t.slice(0, i) + t.slice(i + 1 + int(r, 10));
    else t = t.slice(0, i);
  }
  return t;
}

export function randomText(r: Rand, prefix: string, alphabet: string, maxLen = 700): string {
  let s = prefix;
  const n = int(r, maxLen);
  for (let i = 0; i < n; i++) s += alphabet[int(r, alphabet.length)]!;
  return s;
}

export const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
export const DIGITS = "0123456789";
const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** COSE_Sign1 ES256 over arbitrary payload bytes, base45(zlib or raw). */
export function signedCoseText(prefix: string, payload: Uint8Array, kid: Uint8Array, key: KeyObject, compress: boolean): string {
  const prot = encodeCbor(new Map<number, unknown>([[1, -7], [4, kid]]));
  const sig = sign("sha256", sigStructure(prot, payload), { key, dsaEncoding: "ieee-p1363" });
  const cose = encodeCbor(new Tag([prot, new Map(), payload, sig], 18));
  return prefix + base45Encode(compress ? deflateSync(cose) : cose);
}

/** An SHC JWS over arbitrary payload text (raw DEFLATE), signed: reaches the claim checks. */
export function signedShcText(header: string, payloadJson: string, key: KeyObject): string {
  const input = `${Buffer.from(header).toString("base64url")}.${deflateRawSync(Buffer.from(payloadJson)).toString("base64url")}`;
  const sig = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return "shc:/" + jwsToNumeric(`${input}.${sig.toString("base64url")}`);
}

export interface FuzzInput {
  text: string;
  /** True when we signed this input ourselves (so it may verify). */
  signed: boolean;
  /** Raw bytes, for byte-level targets (deny lists). */
  bytes?: Uint8Array;
}

export interface FuzzOutcome {
  /** Verdict reason, or the error class / "accepted" for trust documents. */
  reason: string;
  pass: boolean;
  /** Set when the per-input invariant is broken: a crash (throw, INTERNAL_ERROR) or an unsigned PASS. */
  violation?: { kind: "crash" | "unsigned-pass"; detail: string };
}

export interface FuzzTarget {
  format: FuzzFormat;
  input(r: Rand): FuzzInput;
  run(input: FuzzInput): FuzzOutcome | Promise<FuzzOutcome>;
}

/** Where the fixtures live, relative to the repository root (the working directory of tests and `npm run fuzz`). */
const DCC_DIR = "test-fixtures/external/eu-dcc";
const SHC_DIR = "test-fixtures/external/smart-health-cards";
const SHC_ISSUER = "https://spec.smarthealth.cards/examples/issuer";
const SHC_AT = Date.parse("2023-07-01T00:00:00Z");
const SHC_KID = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
const PASS_AT = Date.parse("2026-03-10T08:00:00Z");
const cbor = new Decoder({ mapsAsObjects: false });

export function verdictOutcome(v: Verdict, input: FuzzInput, genuineHash: string | undefined): FuzzOutcome {
  const out: FuzzOutcome = { reason: v.reason, pass: v.verdict === "PASS" };
  if (!(v.reason in REASONS)) out.violation = { kind: "crash", detail: `reason ${v.reason} not in the catalogue` };
  else if (v.reason === "INTERNAL_ERROR") out.violation = { kind: "crash", detail: "INTERNAL_ERROR (the verifier caught an unexpected exception)" };
  else if (out.pass !== (v.reason === "OK")) out.violation = { kind: "crash", detail: `${v.verdict} with reason ${v.reason}` };
  else if (out.pass && !input.signed && v.credentialHash !== genuineHash) out.violation = { kind: "unsigned-pass", detail: "PASS for a credential we did not sign" };
  return out;
}

function verifyTarget(format: "pass" | "dcc" | "shc", verify: (t: string) => Verdict, gen: (r: Rand) => FuzzInput, genuine: string): FuzzTarget {
  const g = verify(genuine);
  if (g.verdict !== "PASS") throw new Error(`fuzz setup: the genuine ${format} credential is ${g.verdict} ${g.reason}`);
  return {
    format,
    input: gen,
    run(input) {
      let v: Verdict;
      try {
        v = verify(input.text);
      } catch (e) {
        return { reason: "THREW", pass: false, violation: { kind: "crash", detail: `verify threw: ${(e as Error).message}` } };
      }
      return verdictOutcome(v, input, g.credentialHash);
    },
  };
}

/** `wrap` lets the in-suite test plant a verifier bug and show that the invariant reports it. */
export function passTarget(wrap: (verify: (t: string) => Verdict) => (t: string) => Verdict = (f) => f): FuzzTarget {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const trust = new MemoryTrust([{ kid: "fz", issuer: "VN-MOH", formats: ["pass"], key: createPublicKey(privateKey), source: "fuzz" }]);
  const v = createVerifier({ trust: () => trust, salt: "f", clockSkewS: 60 });
  const s = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const claims: PassClaims = {
    version: 1, passId: "P26-0000123456", subjectRef: "q3N0Zk1xV2JvYXJkX0E4Yg", origin: "VN-HN", destination: ["VN-SG", "VN-DN"],
    declaredAt: s("2026-03-09T20:15:00Z"), health: "cleared", validFrom: s("2026-03-09T20:15:00Z"), validUntil: s("2026-03-16T20:15:00Z"), issuer: "VN-MOH",
  };
  const good = issuePass(claims, "fz", privateKey);
  const raw = base45Decode(good.slice(4));
  const cose = raw[0] === 0x78 ? inflateSync(raw) : raw;
  const payload = ((cbor.decode(cose) as Tag).value as unknown[])[2] as Uint8Array;
  const kid = Buffer.from("fz");
  return verifyTarget("pass", wrap((t) => v.verify(t, { nowMs: PASS_AT })), (r) => {
    const p = r();
    if (p < 0.3) return { text: randomText(r, "VN1:", B45), signed: false };
    if (p < 0.5) return { text: mutateText(r, good, B45), signed: false };
    if (p < 0.97) return { text: "VN1:" + base45Encode(mutateBytes(r, cose)), signed: false };
    return { text: signedCoseText("VN1:", mutateBytes(r, payload), kid, privateKey, r() < 0.5), signed: true };
  }, good);
}

function dccTarget(): FuzzTarget {
  const vec = JSON.parse(readFileSync(`${DCC_DIR}/DE/2DCode/raw/1.json`, "utf8")) as { PREFIX: string; TESTCTX: { VALIDATIONCLOCK: string } };
  const raw = base45Decode(vec.PREFIX.slice(4));
  const upstreamCose = inflateSync(raw);
  const payload = ((cbor.decode(upstreamCose) as Tag).value as unknown[])[2] as Uint8Array;
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = Buffer.from("fuzzkid1");
  const trust = new MemoryTrust([{ kid: kid.toString("base64"), issuer: "DE", formats: ["dcc"], key: publicKey, source: "fuzz" }]);
  const v = createVerifier({ trust: () => trust, salt: "f", clockSkewS: 60 });
  const nowMs = Date.parse(vec.TESTCTX.VALIDATIONCLOCK);
  // The DE vector's claims signed by our trusted key: text mutations of it reach the signature check.
  const good = signedCoseText("HC1:", payload, kid, privateKey, true);
  const goodCose = inflateSync(base45Decode(good.slice(4)));
  return verifyTarget("dcc", (t) => v.verify(t, { nowMs }), (r) => {
    const p = r();
    if (p < 0.25) return { text: randomText(r, "HC1:", B45), signed: false };
    if (p < 0.35) return { text: mutateText(r, vec.PREFIX, B45), signed: false };
    if (p < 0.5) return { text: mutateText(r, good, B45), signed: false };
    if (p < 0.6) return { text: "HC1:" + base45Encode(mutateBytes(r, raw)), signed: false };
    if (p < 0.97) return { text: "HC1:" + base45Encode(mutateBytes(r, r() < 0.5 ? goodCose : upstreamCose)), signed: false };
    return { text: signedCoseText("HC1:", mutateBytes(r, payload), kid, privateKey, r() < 0.5), signed: true };
  }, good);
}

function shcTarget(): FuzzTarget {
  const jwks = JSON.parse(readFileSync(`${SHC_DIR}/examples/issuer/.well-known/jwks.json`, "utf8")) as unknown;
  const trust = new MemoryTrust(shcKeysFromJwks(jwks, SHC_ISSUER, "fuzz").keys);
  const crl = JSON.parse(readFileSync(`${SHC_DIR}/examples/issuer/.well-known/crl/${SHC_KID}.json`, "utf8")) as { rids: string[] };
  for (const rid of crl.rids) trust.revoke("shc", rid);
  const v = createVerifier({ trust: () => trust, salt: "f", clockSkewS: 60 });
  const read = (f: string) => readFileSync(`${SHC_DIR}/examples/${f}`, "utf8").trim();
  const good = read("example-00-f-qr-code-numeric-value-0.txt");
  const jws = read("example-00-d-jws.txt");
  const payloadJson = read("example-00-c-jws-payload-minified.json");
  const priv = (JSON.parse(readFileSync(`${SHC_DIR}/generate-examples-config/EXAMPLE-ONLY-issuer.jwks.private.json`, "utf8")) as { keys: Array<JsonWebKey & { kid: string }> }).keys.find((k) => k.kid === SHC_KID)!;
  const key = createPrivateKey({ key: priv, format: "jwk" });
  const header = JSON.stringify({ zip: "DEF", alg: "ES256", kid: SHC_KID });
  const JSON_CHARS = '{}[]":,0123456789.-eE truefalsnul' + "abc\\";
  const toNumeric = (s: string) => "shc:/" + [...s].map((c) => String(Math.max(0, Math.min(99, c.charCodeAt(0) - 45))).padStart(2, "0")).join("");
  return verifyTarget("shc", (t) => v.verify(t, { nowMs: SHC_AT }), (r) => {
    const p = r();
    if (p < 0.2) return { text: randomText(r, "shc:/", DIGITS, 800), signed: false };
    if (p < 0.3) return { text: randomText(r, `shc:/${1 + int(r, 3)}/${int(r, 4)}/`, DIGITS, 200), signed: false };
    if (p < 0.6) return { text: mutateText(r, good, DIGITS), signed: false };
    if (p < 0.97) return { text: toNumeric(mutateText(r, jws, "ABCxyz019-_.")), signed: false };
    if (p < 0.98) return { text: signedShcText(mutateText(r, header, JSON_CHARS), payloadJson, key), signed: true };
    return { text: signedShcText(header, mutateText(r, payloadJson, JSON_CHARS), key), signed: true };
  }, good);
}

/** Our signed trust list: the JWS check, schema and entry import. Accepting a list we did not sign is the failure. */
async function listTarget(): Promise<FuzzTarget> {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const rootJwk = { ...privateKey.export({ format: "jwk" }), kid: "root" };
  const pinned = parseRootKey(JSON.stringify(rootJwk));
  const passJwk = { ...createPublicKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey).export({ format: "jwk" }) };
  const payload = {
    version: 7,
    issuedAt: "2026-11-30T00:00:00Z",
    expiresAt: "2099-01-01T00:00:00Z",
    entries: [{ kid: "vn-1", issuer: "VN", formats: ["pass"], jwk: passJwk }],
    revocations: [{ type: "id-hash", hashes: ["8f14e45fceea167a5a36dedd4bea2543"] }, { type: "shc-rid", issuer: SHC_ISSUER, kid: "k", rids: ["r1", "r2.1700000000"] }],
    revocationSigners: [{ kid: "rev-1", jwk: passJwk }],
  };
  const good = await signTrustList(payload, rootJwk as never);
  const genuine = await verifyTrustList(good, pinned);
  const json = JSON.stringify(payload);
  const headerB64 = Buffer.from(JSON.stringify({ alg: "ES256", typ: TRUST_LIST_TYP, kid: "root" })).toString("base64url");
  const JSON_CHARS = '{}[]":,0123456789.-eE truefalsnul' + "abcvk\\";
  /** Signed by the pinned root over arbitrary payload bytes (node:crypto, synchronous). */
  const resign = (bytes: string) => {
    const input = `${headerB64}.${Buffer.from(bytes).toString("base64url")}`;
    return `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
  };
  return {
    format: "list",
    input(r) {
      const p = r();
      if (p < 0.15) return { text: randomText(r, "", B64U + ".", 400), signed: false };
      if (p < 0.85) return { text: mutateText(r, good, B64U + ". =+/\n"), signed: false };
      return { text: resign(mutateText(r, json, JSON_CHARS)), signed: true };
    },
    async run(input) {
      let accepted;
      try {
        accepted = await verifyTrustList(input.text, pinned);
      } catch (e) {
        if (e instanceof TrustListError) return { reason: `refused:${e.reason}`, pass: false };
        return { reason: "THREW", pass: false, violation: { kind: "crash", detail: `verifyTrustList threw ${(e as Error).name}: ${(e as Error).message}` } };
      }
      if (!input.signed && accepted.digest !== genuine.digest) return { reason: "accepted", pass: true, violation: { kind: "unsigned-pass", detail: "accepted a list payload we did not sign" } };
      try {
        await listContent(accepted.payload, "fuzz");
      } catch (e) {
        if (e instanceof TrustListError) return { reason: `refused:${e.reason}`, pass: false };
        return { reason: "THREW", pass: false, violation: { kind: "crash", detail: `listContent threw ${(e as Error).name}: ${(e as Error).message}` } };
      }
      return { reason: "accepted", pass: true };
    },
  };
}

/** Unsigned deny lists: arbitrary bytes must parse or fail with our SourceError, and agree with a reference parser. */
function denyListTarget(): FuzzTarget {
  const hex = (r: Rand) => Array.from({ length: 32 }, () => "0123456789abcdefABCDEF"[int(r, 22)]).join("");
  return {
    format: "deny-list",
    input(r) {
      const p = r();
      if (p < 0.3) return { text: "", signed: false, bytes: Uint8Array.from({ length: int(r, 400) }, () => int(r, 256)) };
      const lines = Array.from({ length: int(r, 12) }, () => (r() < 0.15 ? "# note" : r() < 0.1 ? "" : hex(r)));
      let text = lines.join(r() < 0.5 ? "\n" : "\r\n");
      if (p < 0.8) text = mutateText(r, text, "0123456789abcdefx# \t\r\n{}");
      return { text, signed: false, bytes: Buffer.from(text, "latin1") };
    },
    run(input) {
      const body = Buffer.from(input.bytes!);
      let parsed;
      try {
        parsed = parseRevocationBody(body);
      } catch (e) {
        if (e instanceof SourceError) return { reason: `refused:${e.reason}`, pass: false };
        return { reason: "THREW", pass: false, violation: { kind: "crash", detail: `parseRevocationBody threw ${(e as Error).name}: ${(e as Error).message}` } };
      }
      if (body.subarray(0, 64).toString("latin1").trimStart().startsWith("{")) return { reason: "accepted-json", pass: true };
      // Reference: every non-blank, non-comment line must be 32 hex digits, and each of them is in the index.
      const want: string[] = [];
      for (const raw of body.toString("latin1").split("\n")) {
        const l = raw.replace(/^[ \t\r]+|[ \t\r]+$/g, ""); // the parser trims space, tab and CR only
        if (l === "" || l.startsWith("#")) continue;
        if (!/^[0-9a-fA-F]{32}$/.test(l)) return { reason: "accepted", pass: true, violation: { kind: "unsigned-pass", detail: "a malformed deny-list line was accepted" } };
        want.push(l.toLowerCase());
      }
      const index = parsed.hashes ?? RevocationIndex.fromHex([]);
      const missing = want.filter((h) => !index.has(Buffer.from(h, "hex")));
      if (missing.length > 0) return { reason: "accepted", pass: true, violation: { kind: "crash", detail: `${missing.length} listed hash(es) missing from the index` } };
      return { reason: "accepted", pass: true };
    },
  };
}

export async function createTarget(format: FuzzFormat): Promise<FuzzTarget> {
  switch (format) {
    case "pass":
      return passTarget();
    case "dcc":
      return dccTarget();
    case "shc":
      return shcTarget();
    case "list":
      return listTarget();
    case "deny-list":
      return denyListTarget();
  }
}
