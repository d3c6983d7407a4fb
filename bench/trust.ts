/**
 * Trust store and revocation benchmarks (npm run bench:verify, after bench/verify.js).
 * Each structure is measured next to a plain-JS reference in the same run; answers are checked
 * inside the loops (a wrong count aborts the run), so a fast but broken structure cannot pass.
 * Each structure and its reference are interleaved: every round times one batch of each, on the
 * same probes, in alternating order (ABBA), so drift in machine load falls on both alike; medians
 * of the per-op times and of the per-round ratios are reported.
 * Targets (a miss exits 1; results are written first): key lookup and revocation lookup in well
 * under a microsecond (median), a credential-id check (SHA-256 included) under 10 us, the
 * revocation index at most 0.35x the memory of the Set reference it replaces (what it exists for)
 * and its lookup not more than 1.5x the Set's (median of paired rounds), 1M entries in <= 32 MB,
 * loading a 1M-entry list (text <= 2 s, signed 45 MB JWS <= 3 s) and applying a signed
 * 1,000-entry delta (<= 50 ms) without a noticeable stall. Results: bench/results/trust.json.
 */
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { fmt, printTable, quantile, summarize, writeResults } from "./lib/stats.js";
import { exitOnMissed, loadNow, reportTargets, target } from "./lib/targets.js";
import { signRevocationDelta, verifyRevocationDelta } from "../src/verify/trust/signed-delta.js";
import type { CredentialFormat } from "../src/core/types.js";
import { RevocationIndex, credentialIdHash } from "../src/verify/trust/revocation-index.js";
import { RevocationSet } from "../src/verify/trust/revocations.js";
import type { TrustKey } from "../src/verify/trust/types.js";
import { listContent, signTrustList, verifyTrustList } from "../src/verify/trust/signed-list.js";
import type { JWK } from "jose";
import { buildView } from "../src/verify/trust/view.js";

const loadStart = loadNow();
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const KEYS = Number(process.env.BENCH_TRUST_KEYS ?? 1000);
const REVOKED = Number(process.env.BENCH_REVOKED ?? 1_000_000);
const BATCH = 1000;
/** Timed rounds per comparison: each round times one batch of BATCH calls of each contender. */
const ROUNDS = Number(process.env.BENCH_TRUST_ROUNDS ?? 1000);
const WARMUP_ROUNDS = 50;
const DELTA_SIZE = 1000;
const DELTA_REPS = 50;

/** Heap + ArrayBuffer bytes after full GCs (with a turn of the loop so freed backing stores are released). */
async function memNow(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** ns per operation for one batch of BATCH calls starting at probe `base`; the answer count is checked. */
function batchNs(run: (i: number) => boolean, base: number, probes: number, expectHits: number): number {
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) if (run((base + i) % probes)) hits++;
  const ns = Number(process.hrtime.bigint() - t0) / BATCH;
  if (probes % BATCH === 0 && hits !== expectHits) throw new Error(`lookup answered ${hits} hits, expected ${expectHits}`);
  return ns;
}

/** ns per operation for each timed batch of one structure alone (no reference to pair it with). */
function perOpNs(run: (i: number) => boolean, probes: number, expectHits: number): number[] {
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS + WARMUP_ROUNDS; r++) {
    const ns = batchNs(run, (r * BATCH) % probes, probes, expectHits);
    if (r >= WARMUP_ROUNDS) samples.push(ns);
  }
  return samples;
}

/**
 * A structure and its reference, interleaved: each round times one batch of each on the same probes,
 * in ABBA order (ours first on even rounds, the reference first on odd ones), so neither always runs
 * with the other's cache state or in a quieter moment. Returns the per-op ns of both and the
 * per-round ratio ours/reference, whose median is what the ratio targets read.
 */
function pairedNs(ours: (i: number) => boolean, ref: (i: number) => boolean, probes: number, expectHits: number): { ours: number[]; ref: number[]; ratio: number[] } {
  const out = { ours: [] as number[], ref: [] as number[], ratio: [] as number[] };
  for (let r = 0; r < ROUNDS + WARMUP_ROUNDS; r++) {
    const base = (r * BATCH) % probes;
    let a: number;
    let b: number;
    if (r % 2 === 0) {
      a = batchNs(ours, base, probes, expectHits);
      b = batchNs(ref, base, probes, expectHits);
    } else {
      b = batchNs(ref, base, probes, expectHits);
      a = batchNs(ours, base, probes, expectHits);
    }
    if (r < WARMUP_ROUNDS) continue;
    out.ours.push(a);
    out.ref.push(b);
    out.ratio.push(a / b);
  }
  return out;
}

/** Summaries of a paired run: both contenders, and the per-round ratio with its 5th percentile (the spread both ways). */
function summarizePair(p: { ours: number[]; ref: number[]; ratio: number[] }) {
  const sorted = [...p.ratio].sort((a, b) => a - b);
  return { ours: summarize(p.ours), ref: summarize(p.ref), ratio: { ...summarize(p.ratio), p5: quantile(sorted, 0.05) } };
}

// ---- trust store lookup, 1,000 keys ----
const formats: CredentialFormat[] = ["pass", "dcc", "shc"];
const keys: TrustKey[] = [];
const pub = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey; // one key object: lookup cost does not depend on it
for (let i = 0; i < KEYS; i++) {
  const format = formats[i % 3]!;
  keys.push({ kid: createHash("sha256").update(`k${i}`).digest().subarray(0, 8).toString("base64"), issuer: `ISS${i % 40}`, formats: [format], key: pub, source: "bench" });
}
const view = buildView([{ id: "bench", ok: true, refreshedAt: Date.now(), keys }], { maxAgeMs: 1e12 });
const refMap = new Map<string, TrustKey[]>();
for (const k of keys) refMap.set(k.kid, [...(refMap.get(k.kid) ?? []), k]);
// Half the probes hit (right kid and format), half miss (unknown kid).
const probeKids = Array.from({ length: BATCH * 10 }, (_, i) => (i % 2 === 0 ? keys[(i * 7) % KEYS]! : { kid: `miss${i}`, formats: ["pass"] as CredentialFormat[] }));
const keyPair = summarizePair(
  pairedNs(
    (i) => view.keysFor(probeKids[i]!.kid, probeKids[i]!.formats[0]!).length > 0,
    (i) => (refMap.get(probeKids[i]!.kid) ?? []).some((k) => k.formats.includes(probeKids[i]!.formats[0]!)),
    probeKids.length,
    BATCH / 2,
  ),
);
const keyOurs = keyPair.ours;
const keyRef = keyPair.ref;

// ---- revocation list, 1,000,000 entries ----
const hashes = Buffer.allocUnsafe(REVOKED * 16);
for (let i = 0; i < REVOKED; i++) createHash("sha256").update(`URN:UVCI:01:XA:${i}`).digest().copy(hashes, i * 16, 0, 16);
const text = Buffer.from(Array.from({ length: REVOKED }, (_, i) => hashes.subarray(i * 16, i * 16 + 16).toString("hex")).join("\n") + "\n");

// Reference first, so garbage from our own build cannot be collected inside its measurement window.
let m0 = await memNow();
let t0 = performance.now();
const refSet = new Set<string>();
{
  const s = text.toString("latin1");
  let start = 0;
  for (let nl = s.indexOf("\n"); nl >= 0; nl = s.indexOf("\n", start)) {
    refSet.add(s.slice(start, nl));
    start = nl + 1;
  }
}
const loadRefMs = performance.now() - t0;
const memRef = (await memNow()) - m0;
if (refSet.size !== REVOKED) throw new Error("reference set incomplete");

m0 = await memNow();
t0 = performance.now();
const parsed = RevocationIndex.fromText(text);
const loadOursMs = performance.now() - t0;
if (parsed.badLines.length || parsed.index.size !== REVOKED) throw new Error("deny list did not load completely");
const index = parsed.index;
const memOurs = (await memNow()) - m0;

const binary = index.toBytes();
t0 = performance.now();
const fromBinary = RevocationIndex.fromBytes(binary);
const loadBinaryMs = performance.now() - t0;
if (fromBinary.size !== REVOKED || !fromBinary.has(hashes.subarray(0, 16))) throw new Error("binary reload lost entries");

// Probes: precomputed 16-byte hashes (structure cost) and credential ids (what the verifier pays, SHA-256 included).
const N = BATCH * 100;
const probeHashes = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? hashes.subarray(((i * 9973) % REVOKED) * 16, ((i * 9973) % REVOKED) * 16 + 16) : randomBytes(16)));
const probeHex = probeHashes.map((h) => Buffer.from(h).toString("hex"));
const probeIds = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? `URN:UVCI:01:XA:${(i * 9973) % REVOKED}` : `URN:UVCI:01:XB:${i}`));
const revPair = summarizePair(pairedNs((i) => index.has(probeHashes[i]!), (i) => refSet.has(probeHex[i]!), N, BATCH / 2));
const revOurs = revPair.ours;
const revRef = revPair.ref;
const set = new RevocationSet([index]);
const revIdPair = summarizePair(
  pairedNs(
    (i) => set.isRevoked({ format: "dcc", id: probeIds[i]! }),
    (i) => refSet.has(createHash("sha256").update(probeIds[i]!).digest().subarray(0, 16).toString("hex")),
    N,
    BATCH / 2,
  ),
);
const revIdOurs = revIdPair.ours;
const revIdRef = revIdPair.ref;
if (!set.isRevoked({ format: "dcc", id: "URN:UVCI:01:XA:0" }) || credentialIdHash("x").length !== 16) throw new Error("sanity");

// The realistic delivery path: the same million hashes inside a signed trust list (JWS ES256).
const { privateKey: rootPriv, publicKey: rootPub } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const listJws = await signTrustList(
  { version: 1, issuedAt: new Date().toISOString(), entries: [], revocations: [{ type: "id-hash", hashes: probeHexAll() }] },
  rootPriv.export({ format: "jwk" }) as JWK,
);
t0 = performance.now();
const verified = await verifyTrustList(listJws, { key: rootPub });
const listContentParsed = await listContent(verified.payload, "bench");
const loadListMs = performance.now() - t0;
if (listContentParsed.hashes.size !== REVOKED) throw new Error("signed list lost entries");

// A signed revocation delta as it arrives from the Redis stream: verify (ES256 + schema) and apply
// onto the 1M-entry set, then look ids up through the resulting overlay (the verifier's path until compaction).
const { privateKey: deltaPriv, publicKey: deltaPub } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const deltaAdd = Array.from({ length: DELTA_SIZE }, () => randomBytes(16).toString("hex"));
const deltaJws = await signRevocationDelta({ add: deltaAdd }, { ...(deltaPriv.export({ format: "jwk" }) as JWK), kid: "bench-delta" });
const signers = [{ kid: "bench-delta", key: deltaPub }];
const deltaMs: number[] = [];
let withDelta = set;
for (let r = 0; r < DELTA_REPS + 5; r++) {
  const t = performance.now();
  const v = verifyRevocationDelta(deltaJws, signers);
  withDelta = set.withDelta(v.delta);
  if (r >= 5) deltaMs.push(performance.now() - t);
  if (withDelta.hashCount !== REVOKED + DELTA_SIZE) throw new Error("delta did not apply");
}
const deltaApply = summarize(deltaMs);
const revIdOverlay = summarize(perOpNs((i) => withDelta.isRevoked({ format: "dcc", id: probeIds[i]! }), N, BATCH / 2));

function probeHexAll(): string[] {
  return Array.from({ length: REVOKED }, (_, i) => hashes.subarray(i * 16, i * 16 + 16).toString("hex"));
}

const opsPerS = (ns: number) => 1e9 / ns;
const mb = (b: number) => b / 1024 / 1024;
printTable(`Trust store lookup (${KEYS} keys, 50% hits), ns per lookup, ${ROUNDS} interleaved rounds`, ["structure", "median ns", "p95 ns", "p99 ns", "lookups/s", "ratio vs ref (median of rounds)"], [
  ["TrustView.keysFor", keyOurs.median, keyOurs.p95, keyOurs.p99, opsPerS(keyOurs.median), keyPair.ratio.median],
  ["ref: Map<kid, key[]> + format filter", keyRef.median, keyRef.p95, keyRef.p99, opsPerS(keyRef.median), 1],
]);
printTable(`Revocation list (${REVOKED.toLocaleString("en")} entries, 50% hits, ${ROUNDS} interleaved rounds)`, ["structure", "load ms", "memory MB", "median ns", "p99 ns", "lookups/s", "id lookups/s (SHA-256 incl.)"], [
  ["RevocationIndex (text load)", loadOursMs, mb(memOurs), revOurs.median, revOurs.p99, opsPerS(revOurs.median), opsPerS(revIdOurs.median)],
  ["RevocationIndex (binary reload)", loadBinaryMs, mb(index.byteLength), "", "", "", ""],
  [`signed list (${mb(listJws.length).toFixed(0)} MB JWS: verify+parse)`, loadListMs, "", "", "", "", ""],
  [`signed delta (${DELTA_SIZE} hashes): verify+apply, median of ${DELTA_REPS}`, deltaApply.median, "", "", "", "", ""],
  [`id lookup through the ${DELTA_SIZE}-entry delta overlay`, "", "", revIdOverlay.median, revIdOverlay.p99, "", opsPerS(revIdOverlay.median)],
  ["ref: Set<string> of hex", loadRefMs, mb(memRef), revRef.median, revRef.p99, opsPerS(revRef.median), opsPerS(revIdRef.median)],
  ["ratio ours/ref", loadOursMs / loadRefMs, memOurs / memRef, revOurs.median / revRef.median, revOurs.p99 / revRef.p99, revRef.median / revOurs.median, revIdRef.median / revIdOurs.median],
  ["ratio ours/ref, median of paired rounds (p5-p95)", "", "", `${fmt(revPair.ratio.median, 3)} (${fmt(revPair.ratio.p5, 2)}-${fmt(revPair.ratio.p95, 2)})`, "", "", `${fmt(revIdPair.ratio.median, 3)} (${fmt(revIdPair.ratio.p5, 2)}-${fmt(revIdPair.ratio.p95, 2)})`],
]);
const targets = {
  keyLookup: target("TrustView.keysFor median ns", keyOurs.median, "<=", 1000, "one key lookup per verification must be negligible next to the ~100 us signature check"),
  revocationLookup: target("RevocationIndex.has median ns", revOurs.median, "<=", 1000, "a revocation lookup in well under a microsecond"),
  revocationLookupP99: target("RevocationIndex.has p99 ns", revOurs.p99, "<=", 10_000, "no slow tail on the verdict path"),
  idLookup: target("credential id check median ns (SHA-256 incl.)", revIdOurs.median, "<=", 10_000, "what the verifier pays per credential, in microseconds"),
  idLookupOverlay: target("id check through a delta overlay median ns", revIdOverlay.median, "<=", 10_000, "deltas must not slow the verdict path"),
  notSlowerThanSet: target(
    "RevocationIndex / Set<string> lookup at 1M entries, median of paired rounds",
    revPair.ratio.median,
    "<=",
    1.5,
    "the index exists for memory and GC (a 1M-entry Set of hex strings is ~3x the memory and 1M heap objects to trace), not speed: both are a hash probe with a cache miss or two, and runs land either side of 1.0x; its lookup must cost at most 1.5x the Set's so the memory win stays free on the verdict path (~0.2 us next to a ~100 us signature check)",
  ),
  memory: target("memory MB for 1M entries", mb(memOurs), "<=", 32, "16 bytes per hash plus little overhead on a small edge box"),
  smallerThanSet: target("RevocationIndex / Set<string> memory", memOurs / memRef, "<=", 0.35, "what the index exists for: a fraction of the plain Set's memory (measured ~0.29x, and the Set's figure is flattered: its strings share the file's)"),
  textLoad: target("text deny list load ms (1M)", loadOursMs, "<=", 2000, "a refresh must not stall verification for long"),
  signedListLoad: target("signed 1M list verify+parse ms", loadListMs, "<=", 3000, "the realistic delivery path (jose's compactVerify took ~5 s)"),
  deltaApply: target("signed delta verify+apply median ms", deltaApply.median, "<=", 50, "a revocation from the stream takes effect without a stall"),
};
const missed = reportTargets(targets);
const file = writeResults("trust", {
  workload: {
    keys: KEYS,
    revoked: REVOKED,
    batch: BATCH,
    rounds: ROUNDS,
    warmupRounds: WARMUP_ROUNDS,
    deltaSize: DELTA_SIZE,
    deltaRepetitions: DELTA_REPS,
    note: "each structure and its reference interleaved: every round times one batch of each on the same probes (50% hits), in ABBA order; ratios are medians of the per-round ratios",
  },
  loadavg: { start: loadStart, end: loadNow() },
  targets,
  keyLookup: { keys: KEYS, ours: keyOurs, reference: keyRef, ratio: keyPair.ratio },
  revocation: {
    entries: REVOKED,
    loadMs: { ours: loadOursMs, binary: loadBinaryMs, signedList: loadListMs, signedListBytes: listJws.length, reference: loadRefMs },
    memoryBytes: { ours: memOurs, structure: index.byteLength, reference: memRef },
    lookupNs: { ours: revOurs, reference: revRef, ratio: revPair.ratio },
    idLookupNs: { ours: revIdOurs, overlay: revIdOverlay, reference: revIdRef, ratio: revIdPair.ratio },
    signedDeltaMs: { size: DELTA_SIZE, ...deltaApply },
  },
});
console.log(`\nresults: ${file}`);
exitOnMissed(missed);
