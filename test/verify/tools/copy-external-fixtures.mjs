/* global process, console */
// One-off copy of the public test vectors into test-fixtures/external/ (run from the repo root:
// `node test/verify/tools/copy-external-fixtures.mjs /work/shared/testdata`). Kept in the tree so the
// trimming is reproducible: DCC raw files keep only the fields the verifier tests read.
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync, copyFileSync } from "node:fs";
import { join, dirname, relative } from "node:path";
import { createHash } from "node:crypto";

const src = process.argv[2];
if (!src) throw new Error("usage: copy-external-fixtures.mjs SHARED_TESTDATA_DIR");
const out = "test-fixtures/external";

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const dcc = join(src, "eu-dcc");
let n = 0;
for (const file of walk(dcc).filter((p) => /\/2DCode\/raw\/[^/]+\.json$/i.test(p)).sort()) {
  const d = JSON.parse(readFileSync(file, "utf8"));
  const t = d.TESTCTX ?? {};
  const ctx = {};
  for (const k of ["DESCRIPTION", "VALIDATIONCLOCK"]) if (k in t) ctx[k] = t[k];
  // Many files share a signer certificate: store each once, referenced by a hash of its base64 text.
  if (t.CERTIFICATE) {
    const ref = createHash("sha256").update(t.CERTIFICATE).digest("hex").slice(0, 16);
    mkdirSync(join(out, "eu-dcc", "certificates"), { recursive: true });
    writeFileSync(join(out, "eu-dcc", "certificates", ref + ".b64"), t.CERTIFICATE + "\n");
    ctx.CERTIFICATE_REF = ref;
  }
  const trimmed = { PREFIX: d.PREFIX, TESTCTX: ctx, EXPECTEDRESULTS: d.EXPECTEDRESULTS ?? {} };
  const dest = join(out, "eu-dcc", relative(dcc, file));
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, JSON.stringify(trimmed) + "\n");
  n++;
}
for (const f of ["LICENSE", "NOTICE", "SOURCE_COMMIT", "known_issues.csv"]) copyFileSync(join(dcc, f), join(out, "eu-dcc", f));

const shc = join(src, "smart-health-cards");
const shcFiles = [
  "LICENSE",
  "SOURCE_COMMIT",
  "examples/issuer/.well-known/jwks.json",
  "examples/issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json",
  "generate-examples-config/EXAMPLE-ONLY-issuer.jwks.private.json",
  ...readdirSync(join(shc, "examples"))
    .filter((f) => /-(d-jws\.txt|f-qr-code-numeric-value-\d+\.txt)$/.test(f) || /^example-0[013]-c-jws-payload-minified\.json$/.test(f))
    .map((f) => "examples/" + f),
];
for (const f of shcFiles) {
  const dest = join(out, "smart-health-cards", f);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(join(shc, f), dest);
}
console.log(`copied ${n} DCC raw files and ${shcFiles.length} SHC files`);
