/**
 * `node dist/scripts/make-demo.js [OUT_DIR]`: regenerates the committed demo data in
 * test-fixtures/demo/: two looping lane clips, the signed trust list and the root public key.
 * Private keys live only in this process's memory and are discarded.
 */
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDemoCredentials, renderClip } from "./demo-kit.js";
import { shortHash } from "../src/core/hash.js";

export const DEMO_CLIP = { width: 1280, height: 720, fps: 15, durationS: 24 } as const;

async function main(): Promise<void> {
  const out = process.argv[2] ?? "test-fixtures/demo";
  mkdirSync(out, { recursive: true });
  const c = await makeDemoCredentials();
  const p = c.passes;
  // Lane 1: valid pass, an expired one, a tampered one. Lane 2: unknown issuer, the valid pass
  // from lane 1 again (replay), another valid pass. Same 24 s loop, so the offsets stay put.
  const lanes = {
    "lane-1": [
      { text: p.valid, startS: 2, endS: 5, expect: "PASS OK" },
      { text: p.expired, startS: 9, endS: 12, expect: "FLAG EXPIRED" },
      { text: p.tampered, startS: 16, endS: 19, expect: "FLAG SIGNATURE_INVALID" },
    ],
    "lane-2": [
      { text: p.unknownIssuer, startS: 3, endS: 6, expect: "FLAG KEY_UNKNOWN" },
      { text: p.valid, startS: 10, endS: 13, expect: "FLAG REPLAYED" },
      { text: p.valid2, startS: 17, endS: 20, expect: "PASS OK" },
    ],
  };
  for (const [lane, presentations] of Object.entries(lanes)) {
    const file = join(out, `${lane}.ts`);
    await renderClip({ out: file, ...DEMO_CLIP, presentations });
    console.log(`${file}: ${(statSync(file).size / 1024).toFixed(0)} KiB`);
  }
  writeFileSync(join(out, "trust-list.jws"), c.trustListJws + "\n");
  writeFileSync(join(out, "root.pub.jwk.json"), JSON.stringify(c.rootPublicJwk, null, 2) + "\n");
  // What each clip shows, by payload hash (never the payload), for the docs and the demo test.
  const manifest = Object.fromEntries(
    Object.entries(lanes).map(([lane, ps]) => [lane, ps.map((x) => ({ startS: x.startS, endS: x.endS, expect: x.expect, payloadSha: shortHash(x.text, "demo-manifest-salt") }))]),
  );
  writeFileSync(join(out, "manifest.json"), JSON.stringify({ clip: DEMO_CLIP, lanes: manifest }, null, 2) + "\n");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
