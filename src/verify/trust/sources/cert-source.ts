import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { certificatesFromFile, dccKeyFromCertificate, TrustKeyError } from "../keys.js";
import type { TrustKey } from "../types.js";
import type { SourceSnapshot } from "../view.js";
import { digest, type SourceEnv, type TrustSource } from "./base.js";
import { SourceError } from "./errors.js";
import { readDoc } from "./fetch-doc.js";

export const CERT_EXTENSIONS = new Set([".pem", ".crt", ".cer", ".der"]);

/**
 * DCC document signer certificates from a file or a directory (not recursive). A bad file is
 * skipped and logged; the others still count, since certificates are independent of each other.
 */
export class CertSource implements TrustSource {
  readonly id: string;
  snapshot: SourceSnapshot;
  private contentDigest?: string;

  constructor(
    private readonly path: string,
    private readonly env: SourceEnv,
  ) {
    this.id = path;
    this.snapshot = { id: path, ok: false, keys: [] };
  }

  async init(): Promise<boolean> {
    return false;
  }

  async refresh(): Promise<boolean> {
    try {
      const { keys, skipped, sig } = await loadCertificates(this.path, this.env.maxBytes);
      for (const s of skipped) this.env.logger.warn({ code: "GW_TRUST_FETCH", source: this.id, file: s.file, reason: s.reason }, "certificate skipped");
      const now = this.env.clock.now();
      if (sig === this.contentDigest) {
        // An unreadable file is not in the digest: its leaving changes the skipped count only.
        this.snapshot = { ...this.snapshot, ok: true, refreshedAt: now, keysSkipped: skipped.length };
        delete this.snapshot.error;
        return false;
      }
      this.contentDigest = sig;
      this.snapshot = { id: this.id, ok: true, refreshedAt: now, keys, keysSkipped: skipped.length, version: sig.slice(0, 12) };
      return true;
    } catch (e) {
      const err = e instanceof SourceError ? e : new SourceError("GW_TRUST_FETCH", "file", (e as Error).message);
      this.snapshot = { ...this.snapshot, ok: false, error: `${err.code}:${err.reason}` };
      throw err;
    }
  }
}

export async function loadCertificates(path: string, maxBytes: number): Promise<{ keys: TrustKey[]; skipped: Array<{ file: string; reason: string }>; sig: string }> {
  let files: string[];
  try {
    const st = await stat(path);
    files = st.isDirectory()
      ? (await readdir(path)).filter((f) => CERT_EXTENSIONS.has(extname(f).toLowerCase())).sort().map((f) => join(path, f))
      : [path];
  } catch (e) {
    throw new SourceError("GW_TRUST_FETCH", "file", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const keys: TrustKey[] = [];
  const skipped: Array<{ file: string; reason: string }> = [];
  const digests: string[] = [];
  for (const f of files) {
    try {
      const body = await readDoc(f, maxBytes);
      digests.push(digest(body));
      for (const cert of certificatesFromFile(body)) keys.push(dccKeyFromCertificate(cert, f));
    } catch (e) {
      skipped.push({ file: f, reason: e instanceof TrustKeyError || e instanceof SourceError ? e.message : "unreadable" });
    }
  }
  if (files.length > 0 && keys.length === 0 && skipped.length > 0 && files.length === 1) {
    throw new SourceError("GW_TRUST_FETCH", "content", `${path}: ${skipped[0]!.reason}`);
  }
  return { keys, skipped, sig: digest(Buffer.from(digests.join(","))) };
}
