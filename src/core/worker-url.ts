import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * Worker threads need JavaScript. When the caller runs from `src/*.ts` (vitest), point at the
 * compiled twin under `dist/`; `npm test` builds first so it exists. `relative` names the
 * worker as it is compiled (`./worker.js`).
 */
export function compiledSibling(importMetaUrl: string, relative: string): URL {
  const url = new URL(relative.replace(/\.ts$/, ".js"), importMetaUrl);
  if (!fileURLToPath(importMetaUrl).endsWith(".ts")) return url;
  const js = fileURLToPath(url).replace(/([/\\])src([/\\])/, "$1dist$1src$2");
  if (!existsSync(js)) throw new Error(`compiled worker not found at ${js}: run \`npm run build\` first`);
  return pathToFileURL(js);
}
