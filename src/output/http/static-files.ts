import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/**
 * The page assets are plain files under src/output/http/static (there is no bundler, and tsc
 * copies only .ts), so they are found from the package root whether this module runs from
 * src/ (tests) or dist/src/ (production).
 */
export function staticDir(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return join(dir, "src", "output", "http", "static");
    const up = dirname(dir);
    if (up === dir) throw new Error("package root not found above " + fileURLToPath(fromUrl));
    dir = up;
  }
}

/** Read once at start-up: a kiosk must keep working if the disk goes read-only or away. */
export function loadStaticFiles(dir: string = staticDir()): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    files.set(name, { body, type, etag: `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"` });
  }
  return files;
}

/** No CDN, no inline script: the pages only talk to this gateway. */
export const PAGE_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on same-origin POSTs,
  // and the login and acknowledge checks need the real origin. Nothing links off-site anyway.
  "referrer-policy": "same-origin",
} as const;
