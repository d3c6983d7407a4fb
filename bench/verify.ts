/**
 * `npm run bench:verify`: verifications per second per core for each format, with median/p95/p99
 * per verification and the ratio to a bare node:crypto ES256 verify measured in the same run.
 * Single-threaded loop, so the rate is per core. Every result is checked inside the loop, and every
 * case (reference included) gets the same warm-up and the same number of timed repetitions.
 * Targets (a miss exits 1; results are written first): a credential check stays far below the
 * 60 ms decode budget of a frame (median <= 2 ms, p99 <= 30 ms for every case), and a single-QR
 * credential costs at most 3x a bare ES256 verify (decode, inflate and parse must not dominate).
 * Results: bench/results/verify.json with os.loadavg() at start and end.
 */
import { createPublicKey, createSign, generateKeyPairSync, verify as cryptoVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import type { JsonWebKey } from "node:crypto";
import type { Verdict } from "../src/core/types.js";
import { createVerifier, dccKeyFromCertificate, issuePass, parseCertificate, shcKeysFromJwks, ShcChunkAssembler } from "../src/verify/index.js";
import { MemoryTrust } from "../src/verify/testing/memory-trust.js";
import { printTable, summarize, writeResults } from "./lib/stats.js";
import { exitOnMissed, loadNow, reportTargets, target, type Target } from "./lib/targets.js";

const DCC = "test-fixtures/external/eu-dcc";
const SHC = "test-fixtures/external/smart-health-cards/examples";
const SHC_ISSUER = "https://spec.smarthealth.cards/examples/issuer";
const REPS = Number(process.env.BENCH_VERIFY_REPS ?? 3000);
const WARMUP = 200;
/** The decode stage's per-frame budget (config default decode.budgetMs): verification must be a small part of it. */
const FRAME_BUDGET_MS = 60;
const MEDIAN_MAX_MS = 2;
const P99_MAX_MS = 30;
const RATIO_MAX = 3;

function dccVector(name: string): { text: string; cert: string; at: number } {
  const d = JSON.parse(readFileSync(`${DCC}/${name}`, "utf8")) as { PREFIX: string; TESTCTX: { CERTIFICATE_REF: string; VALIDATIONCLOCK: string } };
  return { text: d.PREFIX, cert: readFileSync(`${DCC}/certificates/${d.TESTCTX.CERTIFICATE_REF}.b64`, "utf8").trim(), at: Date.parse(d.TESTCTX.VALIDATIONCLOCK) };
}

interface Case {
  name: string;
  fn: () => string | boolean;
  expect: string | boolean;
  chars?: number;
  /** A credential check that fits in one QR (held to the ratio target). */
  singleQr?: boolean;
}

/**
 * Every case warmed up alike, then timed interleaved: each repetition calls every case once, in an
 * order that rotates, so a change in the shared machine's load (it moved the reference's median by
 * 40% between back-to-back runs) falls on all cases and the reference alike and the ratios hold.
 */
function measure(cases: readonly Case[]): number[][] {
  for (const c of cases) for (let i = 0; i < WARMUP; i++) if (c.fn() !== c.expect) throw new Error(`${c.name}: wrong result during warm-up`);
  const samples: number[][] = cases.map(() => []);
  for (let i = 0; i < REPS; i++) {
    for (let k = 0; k < cases.length; k++) {
      const j = (i + k) % cases.length;
      const c = cases[j]!;
      const t0 = performance.now();
      const r = c.fn();
      samples[j]!.push(performance.now() - t0);
      if (r !== c.expect) throw new Error(`${c.name}: got ${String(r)}, expected ${String(c.expect)}`);
    }
  }
  return samples;
}

function main(): void {
  const loadStart = loadNow();
  // Reference: what one ES256 signature check costs in node:crypto alone (a 200-byte message).
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const msg = Buffer.alloc(200, 7);
  const sig = createSign("sha256").update(msg).sign({ key: privateKey, dsaEncoding: "ieee-p1363" });

  const trust = new MemoryTrust([{ kid: "bench-01", issuer: "VN-MOH", formats: ["pass"], key: createPublicKey(privateKey), source: "bench" }]);
  const de = dccVector("DE/2DCode/raw/1.json");
  const ch = dccVector("CH/2DCode/raw/1.json");
  trust.add(dccKeyFromCertificate(parseCertificate(de.cert), "bench")).add(dccKeyFromCertificate(parseCertificate(ch.cert), "bench"));
  const jwks = JSON.parse(readFileSync(`${SHC}/issuer/.well-known/jwks.json`, "utf8")) as { keys: JsonWebKey[] };
  for (const k of shcKeysFromJwks(jwks, SHC_ISSUER, "bench").keys) trust.add(k);

  const v = createVerifier({ trust: () => trust, salt: "bench", clockSkewS: 120 });
  const check = (text: string, nowMs: number) => (v.verify(text, { nowMs }) as Verdict).reason;

  const s = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const passText = issuePass(
    { version: 1, passId: "P26-0000123456", subjectRef: "q3N0Zk1xV2JvYXJkX0E4Yg", origin: "VN-HN", destination: ["VN-SG", "VN-DN"], declaredAt: s("2026-03-09T20:15:00Z"), health: "cleared", validFrom: s("2026-03-09T20:15:00Z"), validUntil: s("2026-03-16T20:15:00Z"), issuer: "VN-MOH" },
    "bench-01",
    privateKey,
  );
  const passAt = Date.parse("2026-03-10T08:00:00Z");
  const tampered = passText.slice(0, 60) + (passText[60] === "A" ? "B" : "A") + passText.slice(61);
  const shcAt = Date.parse("2023-07-01T00:00:00Z");
  const shc00 = readFileSync(`${SHC}/example-00-f-qr-code-numeric-value-0.txt`, "utf8").trim();
  const asm = new ShcChunkAssembler();
  let shc02 = "";
  for (const i of [0, 1, 2]) {
    const r = asm.add(readFileSync(`${SHC}/example-02-f-qr-code-numeric-value-${i}.txt`, "utf8").trim(), 0);
    if (r.status === "complete") shc02 = r.text;
  }

  const cases: Case[] = [
    { name: "reference: node:crypto ES256 verify", fn: () => cryptoVerify("sha256", msg, { key: publicKey, dsaEncoding: "ieee-p1363" }, sig), expect: true },
    { name: "pass VN1 ES256 (PASS)", singleQr: true, fn: () => check(passText, passAt), expect: "OK", chars: passText.length },
    { name: "dcc HC1 ES256 DE (PASS)", singleQr: true, fn: () => check(de.text, de.at), expect: "OK", chars: de.text.length },
    { name: "dcc HC1 PS256 CH (PASS)", singleQr: true, fn: () => check(ch.text, ch.at), expect: "OK", chars: ch.text.length },
    { name: "shc ES256 example 00 (PASS)", singleQr: true, fn: () => check(shc00, shcAt), expect: "OK", chars: shc00.length },
    { name: "shc ES256 example 02, 3 chunks joined (PASS)", fn: () => check(shc02, shcAt), expect: "OK", chars: shc02.length },
    { name: "pass tampered (SIGNATURE_INVALID)", singleQr: true, fn: () => check(tampered, passAt), expect: "SIGNATURE_INVALID" },
    { name: "garbage text (PREFIX_UNKNOWN)", fn: () => check("https://example.com/not-a-credential", passAt), expect: "PREFIX_UNKNOWN" },
  ];

  const samples = measure(cases);
  const results = cases.map((c, i) => ({ c, s: summarize(samples[i]!) }));
  const ref = results[0]!.s.median;
  // 1/median is the steady per-core rate; 1/mean includes GC and scheduler stalls (noisy shared hosts).
  const rows = results.map(({ c, s }) => [c.name, c.chars !== undefined ? String(c.chars) : "-", String(Math.round(1000 / s.median)), String(Math.round(1000 / s.mean)), s.median * 1000, s.p95 * 1000, s.p99 * 1000, s.median / ref]);
  printTable("verify: verifications per second per core (single thread), times in microseconds", ["case", "QR chars", "verif/s (1/median)", "verif/s (1/mean)", "median us", "p95 us", "p99 us", "x ref median"], rows);
  const targets: Record<string, Target> = {};
  for (const { c, s } of results.slice(1)) {
    targets[`median: ${c.name}`] = target("median ms", s.median, "<=", MEDIAN_MAX_MS, `far below the ${FRAME_BUDGET_MS} ms per-frame decode budget`);
    targets[`p99: ${c.name}`] = target("p99 ms", s.p99, "<=", P99_MAX_MS, `even a slow verification leaves half of the ${FRAME_BUDGET_MS} ms frame budget`);
    if (c.singleQr) targets[`ratio: ${c.name}`] = target("median / bare ES256 median", s.median / ref, "<=", RATIO_MAX, "the signature check, not decoding or parsing, is the cost");
  }
  const missed = reportTargets(targets);
  const file = writeResults("verify", {
    workload: { warmup: WARMUP, repetitions: REPS, note: "every case: same warm-up and repetitions, single thread, interleaved (each repetition calls every case once, rotating the order), result checked on every call" },
    loadavg: { start: loadStart, end: loadNow() },
    targets,
    cases: results.map(({ c, s }) => ({ case: c.name, chars: c.chars, perSecondMedian: 1000 / s.median, perSecondMean: 1000 / s.mean, ...s, ratioToReference: s.median / ref })),
  });
  console.log(`\nresults: ${file}`);
  exitOnMissed(missed);
}

main();
