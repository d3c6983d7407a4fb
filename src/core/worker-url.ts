import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * Worker threads need JavaScript. When this code runs from `src/` (vitest), point at the
 * compiled twin under `dist/`; `npm test` builds first so it exists.
 */
export function compiledSibling(importMetaUrl: string, relative: string): URL {
  const url = new URL(relative, importMetaUrl);
  const path = fileURLToPath(url);
  if (!path.endsWith(".ts")) return url;
  const js = path.replace(/([/\\])src([/\\])/, "$1dist$1src$2").replace(/\.ts$/, ".js");
  if (!existsSync(js)) throw new Error(`compiled worker not found at ${js}: run \`npm run build\` first`);
  return pathToFileURL(js);
}
