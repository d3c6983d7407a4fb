import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { rolldown } from "rolldown";

/**
 * Bundles a TypeScript child-process fixture into one ESM file node can run (packages stay
 * external, our sources are inlined), so a test can SIGKILL or SIGSTOP a real separate process.
 */
export async function bundleFixture(input: string, file: string): Promise<string> {
  mkdirSync(dirname(file), { recursive: true });
  const bundle = await rolldown({
    input,
    platform: "node",
    external: (id) => !id.startsWith(".") && !id.startsWith("/"),
    resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
    logLevel: "warn",
  });
  await bundle.write({ file, format: "esm" });
  return file;
}
