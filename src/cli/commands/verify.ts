import { readFile } from "node:fs/promises";
import type { Verdict } from "../../core/types.js";
import { ephemeralSalt } from "../../core/hash.js";
import { parse, UsageError } from "../args.js";
import { createVerifier, ShcChunkAssembler } from "../../verify/index.js";
import type { TrustView } from "../../verify/trust/types.js";

const USAGE = `usage: checkpoint-gateway verify [--trust SOURCE]... [--root ROOT.public.jwk.json] [--at ISO_TIME] [--skew S] [--json] INPUT...
  INPUT     QR text, @FILE holding the text (one code per line), or --image FILE (PNG/JPEG/WebP)
  --trust   signed trust list (LIST.jws, pinned root via --root or LIST.jws#root=FILE), PEM/DER
            certificate or a directory of them, ISSUER_URL=JWKS_FILE (SHC issuer keys), deny list
  --at      verify as of this time (default: now); --skew: tolerance for iat/nbf in seconds (120)`;

type Input = { label: string; text: string } | { label: string; error: string };

/**
 * `verify`: ops tool, the same verifier the lanes use. Prints one line per input (a JSON object
 * with --json). Exit 0 even for FLAG verdicts; 64 for usage errors, 2 when a trust source or input
 * file cannot be read. Never prints the credential content.
 */
export default async function verifyCommand(args: string[]): Promise<number> {
  let opts: { trust: string[]; image: string[]; root?: string; at?: string; skew?: string; json?: boolean };
  let positionals: string[];
  let nowMs: number;
  let skewS: number;
  try {
    const p = parse(args, {
      trust: { type: "string", multiple: true },
      image: { type: "string", multiple: true },
      root: { type: "string" },
      at: { type: "string" },
      skew: { type: "string" },
      json: { type: "boolean" },
    });
    opts = { trust: p.values.trust ?? [], image: p.values.image ?? [], root: p.values.root, at: p.values.at, skew: p.values.skew, json: p.values.json };
    positionals = p.positionals;
    if (positionals.length === 0 && opts.image.length === 0) throw new UsageError("no INPUT given");
    nowMs = opts.at === undefined ? Date.now() : Date.parse(opts.at);
    if (!Number.isFinite(nowMs)) throw new UsageError(`--at: not an ISO time (got '${opts.at}')`);
    skewS = opts.skew === undefined ? 120 : Number(opts.skew);
    if (!Number.isInteger(skewS) || skewS < 0 || skewS > 600) throw new UsageError("--skew: whole seconds 0-600");
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    return 64;
  }

  let trust: TrustView;
  let inputs: Input[];
  try {
    trust = await loadTrust(opts.trust, opts.root);
    inputs = await readInputs(positionals, opts.image);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }

  const verifier = createVerifier({ trust: () => trust, salt: ephemeralSalt, clockSkewS: skewS });
  const chunks = new ShcChunkAssembler({ maxPending: 8, maxAgeMs: Number.POSITIVE_INFINITY });
  for (const input of inputs) {
    let v: Verdict & { error?: string };
    if ("error" in input) {
      v = { verdict: "ERROR", reason: "INPUT_UNREADABLE", format: "unknown", error: input.error };
    } else if (/^shc:\/\d+\/\d+\//.test(input.text)) {
      // Chunks of one card may arrive as separate inputs, as they do from successive frames.
      const r = chunks.add(input.text, nowMs);
      v = r.status === "complete" ? verifier.verify(r.text, { nowMs }) : { verdict: "FLAG", reason: r.status === "pending" ? "SHC_CHUNKS_INCOMPLETE" : r.reason, format: "shc" };
    } else {
      v = verifier.verify(input.text, { nowMs });
    }
    process.stdout.write(format(input.label, v, opts.json === true) + "\n");
  }
  return 0;
}

function format(label: string, v: Verdict & { error?: string }, json: boolean): string {
  const o: Record<string, unknown> = { verdict: v.verdict, reason: v.reason, format: v.format };
  if (v.kid !== undefined) o.kid = v.kid;
  if (v.issuer !== undefined) o.issuer = v.issuer;
  if (v.error !== undefined) o.error = v.error;
  if (json) return JSON.stringify(o);
  const extra = [v.kid !== undefined ? `kid=${v.kid}` : "", v.issuer !== undefined ? `issuer=${v.issuer}` : "", v.validUntil !== undefined ? `until=${new Date(v.validUntil).toISOString()}` : "", v.error ?? ""].filter(Boolean);
  return [label, v.verdict, v.reason, v.format, ...extra].join("  ");
}

/** The trust store's one-shot view of the given sources; with none, a view that trusts no key (every credential is KEY_UNKNOWN). */
async function loadTrust(sources: string[], root: string | undefined): Promise<TrustView> {
  const { loadTrustSources } = await import("../../verify/trust/load-source.js");
  const warnings: string[] = [];
  const view = await loadTrustSources(sources, { ...(root ? { rootKey: root } : {}), onWarning: (s, r) => warnings.push(`${s}: ${r}`) });
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  return view;
}

/** Labels never contain the credential text: inputs are numbered, files named. */
async function readInputs(positionals: string[], images: string[]): Promise<Input[]> {
  const out: Input[] = [];
  let n = 0;
  for (const p of positionals) {
    n++;
    if (p.startsWith("@")) {
      const lines = (await readFile(p.slice(1), "utf8").catch(() => { throw new Error(`${p.slice(1)}: cannot read`); }))
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      if (lines.length === 0) out.push({ label: p.slice(1), error: "empty file" });
      lines.forEach((text, i) => out.push({ label: lines.length > 1 ? `${p.slice(1)}:${i + 1}` : p.slice(1), text }));
    } else {
      out.push({ label: `#${n}`, text: p.trim() });
    }
  }
  if (images.length > 0) {
    const { decodeImageFile } = await import("../../decode/index.js");
    for (const img of images) {
      try {
        const { codes } = await decodeImageFile(img);
        if (codes.length === 0) out.push({ label: img, error: "no QR code found" });
        codes.forEach((c, i) => out.push({ label: codes.length > 1 ? `${img}:${i + 1}` : img, text: c.text }));
      } catch (e) {
        out.push({ label: img, error: (e as Error).message.replace(/^.*?: /, "") });
      }
    }
  }
  return out;
}
