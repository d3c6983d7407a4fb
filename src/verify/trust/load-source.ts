import { readFile, stat } from "node:fs/promises";
import type { KeyObject } from "node:crypto";
import { GatewayError } from "../../core/errors.js";
import { parseRootKey, TrustKeyError } from "./keys.js";
import { listContent, TrustListError, verifyTrustList, DEFAULT_MAX_LIST_BYTES } from "./signed-list.js";
import { digest } from "./sources/base.js";
import { loadCertificates } from "./sources/cert-source.js";
import { SourceError } from "./sources/errors.js";
import { MAX_JWKS_BYTES, parseJwksBody } from "./sources/jwks-source.js";
import { displayLocation, isUrl } from "./sources/fetch-doc.js";
import { parseRevocationBody } from "./sources/revocation-source.js";
import { CrlSet, type CrlAnnouncement } from "./sources/crl-set.js";
import type { Logger } from "../../core/logger.js";
import { systemClock } from "../../core/clock.js";
import type { TrustView } from "./types.js";
import { buildView, type SourceSnapshot } from "./view.js";

export interface LoadSourceOptions {
  /** Pinned root for signed lists: a key file path (JWK or PEM) or a key. `LIST#root=FILE` overrides it per source. */
  rootKey?: string | KeyObject;
  maxBytes?: number;
  /** Called for keys or certificates skipped inside an otherwise good source. */
  onWarning?: (source: string, reason: string) => void;
}

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

/**
 * One-shot load for the CLI (`verify --trust SOURCE`): a signed trust list (with its pinned root),
 * a PEM/DER certificate, a directory of them, `ISSUER_URL=JWKS_FILE`, or a deny list. No network,
 * no refresh; the view is stale only if a signed list has expired. Errors are GatewayErrors
 * (GW_TRUST_FETCH: unreadable; GW_TRUST_SIGNATURE: a list that does not verify).
 */
export async function loadTrustSource(source: string, opts: LoadSourceOptions = {}): Promise<TrustView> {
  return loadTrustSources([source], opts);
}

export async function loadTrustSources(sources: readonly string[], opts: LoadSourceOptions = {}): Promise<TrustView> {
  const snaps: SourceSnapshot[] = [];
  for (const s of sources) snaps.push(await loadOne(s, opts));
  return buildView(snaps, { maxAgeMs: Number.POSITIVE_INFINITY });
}

async function loadOne(source: string, opts: LoadSourceOptions): Promise<SourceSnapshot> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_LIST_BYTES;
  const warn = (reason: string) => opts.onWarning?.(source, reason);
  try {
    // An issuer URL has no query string: `URL?key=K` is a URL, not `ISSUER=FILE`.
    const bind = /^(https?:\/\/[^=\s?#]+)=(.+)$/i.exec(source);
    if (bind) {
      const [, issuer, file] = bind as unknown as [string, string, string];
      const { crls, keys, keysSkipped, version } = await parseJwksBody(await readCapped(file, Math.min(maxBytes, MAX_JWKS_BYTES)), issuer, file, (i, r) => warn(`JWKS key ${i}: ${r}`));
      // Revocation lists next to the JWKS (.well-known/crl/KID.json), when the keys announce them.
      const crl = await localCrls(file, crls.map((c) => ({ issuer, ...c })), warn);
      return snapshot(source, { keys, ...(keysSkipped ? { keysSkipped } : {}), ...(version ? { version } : {}), ...(crl ? { crl } : {}) });
    }
    let path = source;
    let rootKey = opts.rootKey;
    const hash = source.lastIndexOf("#root=");
    if (hash > 0) {
      path = source.slice(0, hash);
      rootKey = source.slice(hash + 6);
    }
    // The CLI reads files only; a URL is named as the logs name it (its query may hold a token).
    if (isUrl(path)) throw new GatewayError("GW_TRUST_FETCH", `${displayLocation(path)}: verify reads local files only (download the list first)`);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new GatewayError("GW_TRUST_FETCH", `${path}: no such file or directory`);
    if (st.isDirectory()) {
      const { keys, skipped, sig } = await loadCertificates(path, maxBytes);
      for (const s of skipped) warn(`${s.file}: ${s.reason}`);
      if (keys.length === 0) throw new GatewayError("GW_TRUST_FETCH", `${path}: no readable certificate in directory`);
      return snapshot(source, { keys, version: sig.slice(0, 12) });
    }
    const body = await readCapped(path, maxBytes);
    const head = body.subarray(0, 64).toString("latin1").trimStart();
    if (head.startsWith("-----BEGIN") || body[0] === 0x30) {
      const { keys, skipped } = await loadCertificates(path, maxBytes);
      for (const s of skipped) warn(`${s.file}: ${s.reason}`);
      return snapshot(source, { keys, version: digest(body).slice(0, 12) });
    }
    const text = body.toString("utf8").trim();
    if (JWS.test(text)) {
      if (rootKey === undefined) throw new GatewayError("GW_TRUST_SIGNATURE", `${path}: a signed trust list needs its pinned root key (LIST#root=ROOT.public.jwk.json)`);
      const root = typeof rootKey === "string" ? parseRootKey(await readFile(rootKey, "utf8")) : { key: rootKey };
      const { payload } = await verifyTrustList(text, root, maxBytes);
      const content = await listContent(payload, path);
      for (const s of content.skipped) warn(`entry ${s.entry}: ${s.reason}`);
      const expiresAt = payload.expiresAt ? Date.parse(payload.expiresAt) : undefined;
      // The CRLs its SHC keys announce, next to the list (DIR/crl/KID.json) as the gateway reads them for a list file.
      const crl = await localCrls(path, content.crls, warn);
      return snapshot(source, { keys: content.keys, hashes: content.hashes, shc: content.shc, version: String(payload.version), ...(expiresAt !== undefined ? { expiresAt } : {}), ...(crl ? { crl } : {}) });
    }
    if (head.startsWith("{") && /"entries"\s*:/.test(text.slice(0, 4096))) {
      throw new GatewayError("GW_TRUST_SIGNATURE", `${path}: an unsigned trust list is never trusted; sign it with trust-list sign`);
    }
    if (head.startsWith("{") && /"keys"\s*:/.test(text.slice(0, 4096))) {
      throw new GatewayError("GW_TRUST_FETCH", `${path}: a JWKS must be bound to its issuer: ISSUER_URL=${path}`);
    }
    if (head.startsWith("{") || /^[0-9a-fA-F]{32}\s*$/m.test(text.slice(0, 200)) || head.startsWith("#")) {
      return snapshot(source, parseRevocationBody(body));
    }
    throw new GatewayError("GW_TRUST_FETCH", `${path}: not a trust list, certificate, JWKS binding or deny list`);
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    if (e instanceof TrustListError) throw new GatewayError("GW_TRUST_SIGNATURE", `${source}: ${e.message}`);
    if (e instanceof SourceError) throw new GatewayError(e.code, `${source}: ${e.message}`);
    if (e instanceof TrustKeyError) throw new GatewayError("GW_TRUST_FETCH", `${source}: ${e.message}`);
    throw new GatewayError("GW_TRUST_FETCH", `${source}: ${(e as Error).message}`);
  }
}

/** The CRLs announced by keys read from a local file, from next to that file (no network: the location is a path). */
async function localCrls(file: string, announced: CrlAnnouncement[], warn: (reason: string) => void): Promise<SourceSnapshot["crl"]> {
  if (announced.length === 0) return undefined;
  const crls = new CrlSet(file, { fetch, timeoutMs: 10_000, stateDir: "", logger: warnLogger(warn), clock: systemClock }, false);
  crls.take(await crls.held(announced));
  await crls.load();
  return crls.part();
}

/** Routes the CRL loader's warnings to the CLI's warning callback (no logger in one-shot loads). */
function warnLogger(warn: (reason: string) => void): Logger {
  const w = (obj: { reason?: string; kid?: string }, msg?: string) => warn(`${msg ?? ""}${obj.kid ? ` (kid ${obj.kid})` : ""}`);
  return { warn: w, info: () => undefined, error: w, debug: () => undefined } as unknown as Logger;
}

function snapshot(id: string, parsed: Omit<SourceSnapshot, "id" | "ok" | "refreshedAt">): SourceSnapshot {
  return { ...parsed, id, ok: true, refreshedAt: Date.now() };
}

async function readCapped(path: string, maxBytes: number): Promise<Buffer> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new GatewayError("GW_TRUST_FETCH", `${path}: no such file`);
  if (st.size > maxBytes) throw new GatewayError("GW_TRUST_FETCH", `${path}: larger than ${maxBytes} bytes`);
  return readFile(path);
}
