/** Loads the EU DCC vectors copied (trimmed) into test-fixtures/external/eu-dcc and maps their EXPECTED flags. */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const DCC_DIR = "test-fixtures/external/eu-dcc";

export interface DccVector {
  name: string;
  prefix: string;
  certificate?: string;
  clockMs?: number;
  expected: Record<string, boolean | undefined>;
  description?: string;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

let knownIssues: Array<{ test: string; country: string; set: string }> | undefined;

function schemaKnownIssue(name: string): boolean {
  knownIssues ??= readFileSync(join(DCC_DIR, "known_issues.csv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => {
      const [test = "", country = "", set = ""] = l.split(",");
      return { test, country, set };
    });
  const country = name.split("/")[0];
  const base = name.split("/").pop()!.replace(/\.json$/, "");
  return knownIssues.some((k) => k.test === "test_cose_schema" && k.country === country && (k.set === "" || k.set === base));
}

export function loadDccVectors(): DccVector[] {
  return walk(DCC_DIR)
    .filter((p) => /\/2DCode\/raw\/[^/]+\.json$/i.test(p))
    .sort()
    .map((p) => {
      const d = JSON.parse(readFileSync(p, "utf8")) as {
        PREFIX: string;
        TESTCTX: { VALIDATIONCLOCK?: string; CERTIFICATE_REF?: string; DESCRIPTION?: string };
        EXPECTEDRESULTS: Record<string, boolean>;
      };
      const exp = { ...d.EXPECTEDRESULTS };
      // Upstream misspelling of EXPECTEDEXPIRATIONCHECK (same meaning: the BG files marked true are
      // inside their validity window at their validation clock).
      if ("EXPTECTEDEXPIRED" in exp && !("EXPECTEDEXPIRATIONCHECK" in exp)) exp.EXPECTEDEXPIRATIONCHECK = exp.EXPTECTEDEXPIRED;
      const name = relative(DCC_DIR, p);
      // Upstream's known_issues.csv marks some files' schema expectation as wrong (e.g. all NL, #107).
      if (schemaKnownIssue(name)) delete exp.EXPECTEDSCHEMAVALIDATION;
      const ref = d.TESTCTX.CERTIFICATE_REF;
      return {
        name,
        prefix: d.PREFIX,
        certificate: ref ? readFileSync(join(DCC_DIR, "certificates", ref + ".b64"), "utf8").trim() : undefined,
        clockMs: d.TESTCTX.VALIDATIONCLOCK ? Date.parse(d.TESTCTX.VALIDATIONCLOCK) : undefined,
        expected: exp,
        description: d.TESTCTX.DESCRIPTION,
      };
    });
}
