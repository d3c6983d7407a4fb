import { readFile, stat } from "node:fs/promises";
import { maskUrl } from "../../../core/mask.js";
import { SourceError } from "./errors.js";
import { headerTime } from "../clock-check.js";

export interface FetchedDoc {
  /** 304: the server says our copy (by ETag) is current. */
  notModified: boolean;
  body?: Buffer;
  etag?: string;
  /** The time the server's Date header vouches for (epoch ms; plus Age for a cached response), for the clock check (clock-check.ts). */
  dateMs?: number;
}

export interface FetchDocOptions {
  etag?: string;
  fetch: typeof fetch;
  timeoutMs: number;
  /** Cap on the body as read (after any content decoding): reading stops and the request is aborted once it is passed. */
  maxBytes: number;
  /** What the document is, for messages ("JWKS", "deny list"...); default "body". */
  what?: string;
  /** Aborts the request when the store stops. */
  signal?: AbortSignal;
  /**
   * Plain http allowed for this source: signed lists (the signature is the protection) or an
   * unsigned source whose config says `allowInsecureHttp: true`. Otherwise http is refused.
   */
  allowHttp?: boolean;
}

const MAX_REDIRECTS = 5;

export function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/** For logs and status: credentials masked, query strings (may hold tokens) dropped. */
export function displayLocation(location: string): string {
  if (!isUrl(location)) return location;
  const masked = maskUrl(location);
  const q = masked.indexOf("?");
  return q < 0 ? masked : masked.slice(0, q) + "?…";
}

/**
 * An error's text with every URL in it shown as `displayLocation` shows it: fetch's own errors
 * quote the whole URL, query string (tokens, signatures) included.
 */
export function withoutUrls(text: string): string {
  return text.replace(/https?:\/\/[^\s"'<>]+/gi, (u) => displayLocation(u));
}

/**
 * One GET with If-None-Match. The body is read fully under a byte cap and checked against
 * Content-Length before anyone parses it: a truncated download is an error, never a short list.
 */
export async function fetchDoc(url: string, opts: FetchDocOptions): Promise<FetchedDoc> {
  const headers: Record<string, string> = { accept: "application/jose, application/json, text/plain, */*" };
  if (opts.etag) headers["if-none-match"] = opts.etag;
  checkScheme(url, undefined, opts.allowHttp === true);
  let res: Response;
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  // Redirects are followed here, not by fetch, so each hop's scheme is checked before it is requested.
  let at = url;
  for (let hop = 0; ; hop++) {
    try {
      res = await opts.fetch(at, { headers, signal, redirect: "manual" });
    } catch (e) {
      throw new SourceError("GW_TRUST_FETCH", "network", `fetch failed: ${(e as Error).name === "TimeoutError" ? "timeout" : withoutUrls(((e as Error).cause as Error | undefined)?.message ?? (e as Error).message)}`);
    }
    const location = res.status >= 300 && res.status < 400 && res.status !== 304 ? res.headers.get("location") : null;
    if (location === null) break;
    await res.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new SourceError("GW_TRUST_FETCH", "http-status", `more than ${MAX_REDIRECTS} redirects`);
    let next: string;
    try {
      next = new URL(location, at).toString();
    } catch {
      throw new SourceError("GW_TRUST_FETCH", "http-status", "redirect to an invalid URL");
    }
    checkScheme(next, at, opts.allowHttp === true);
    at = next;
  }
  const dateMs = headerTime(res.headers.get("date"), res.headers.get("age"));
  const base = dateMs !== undefined ? { dateMs } : {};
  if (res.status === 304) {
    await res.body?.cancel();
    return { notModified: true, ...base, ...(opts.etag ? { etag: opts.etag } : {}) };
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new SourceError("GW_TRUST_FETCH", "http-status", `HTTP ${res.status}`);
  }
  const what = opts.what ?? "body";
  const declared = res.headers.get("content-length");
  if (declared !== null && Number(declared) > opts.maxBytes) {
    await res.body?.cancel();
    throw new SourceError("GW_TRUST_FETCH", "size", `${what} of ${declared} bytes (Content-Length) exceeds the cap of ${opts.maxBytes} bytes: not read`);
  }
  // Content-Length may be absent (chunked, or ended by closing) or wrong: the cap is applied to the bytes as they arrive.
  const body = await readCapped(res, opts.maxBytes, signal, what);
  // fetch decodes gzip/br transparently; Content-Length then counts encoded bytes, so only compare identity bodies.
  const encoded = (res.headers.get("content-encoding") ?? "identity") !== "identity";
  if (declared !== null && !encoded && Number(declared) !== body.length) {
    throw new SourceError("GW_TRUST_FETCH", "truncated", `body is ${body.length} bytes, Content-Length says ${declared}`);
  }
  const etag = res.headers.get("etag");
  return { notModified: false, body, ...base, ...(etag ? { etag } : {}) };
}

/** https only, unless this source allows http; a redirect never downgrades https to http. */
function checkScheme(url: string, from: string | undefined, allowHttp: boolean): void {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "https") return;
  if (scheme === "http" && allowHttp && !(from && /^https:/i.test(from))) return;
  const what = from ? `redirect from ${displayLocation(from)} to ${displayLocation(url)}` : displayLocation(url);
  throw new SourceError("GW_TRUST_FETCH", "insecure", `${what}: not https (plain http needs allowInsecureHttp on an unsigned source; redirects never downgrade)`);
}

async function readCapped(res: Response, maxBytes: number, signal: AbortSignal, what: string): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        // cancel() aborts the request and closes the connection: the rest is never downloaded, kept or parsed.
        await reader.cancel();
        throw new SourceError("GW_TRUST_FETCH", "size", `${what} exceeds the cap of ${maxBytes} bytes: download stopped`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof SourceError) throw e;
    // Cut by our own deadline (a server trickling the body) or by stop(): not a short body from the server.
    if (signal.aborted) throw new SourceError("GW_TRUST_FETCH", "network", `body read failed: ${(signal.reason as Error | undefined)?.name === "TimeoutError" ? "timeout" : "aborted"}`);
    throw new SourceError("GW_TRUST_FETCH", "truncated", `body read failed: ${withoutUrls((e as Error).message)}`);
  }
  return Buffer.concat(chunks, total);
}

/** Local files are read fresh on every refresh; same cap as downloads. */
export async function readDoc(path: string, maxBytes: number, what = "file"): Promise<Buffer> {
  let body: Buffer;
  try {
    // Size first: a file far over the cap is not read into memory at all.
    if ((await stat(path)).size > maxBytes) throw new SourceError("GW_TRUST_FETCH", "size", `${what} exceeds the cap of ${maxBytes} bytes: not read`);
    body = await readFile(path);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    throw new SourceError("GW_TRUST_FETCH", "file", `cannot read file: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
  // Grown since the stat.
  if (body.length > maxBytes) throw new SourceError("GW_TRUST_FETCH", "size", `${what} exceeds the cap of ${maxBytes} bytes`);
  return body;
}
