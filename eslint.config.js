import js from "@eslint/js";
import tseslint from "typescript-eslint";

const LAYERS = ["core", "ingest", "decode", "verify", "lane", "output", "config", "app", "cli"];

/** One no-restricted-imports block per layer: every folder it may not import is a forbidden pattern. */
function layerRules(allowed) {
  const rule = (patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
  return Object.entries(allowed).flatMap(([layer, ok]) => {
    const layers = { group: LAYERS.filter((l) => l !== layer && !ok.includes(l)).map((l) => `**/${l}/**`), message: `${layer} imports only ${["itself", ...ok].join(", ")} (docs/design/0008-layers.md)` };
    return [
      // Test seams (fault-injecting workers, in-memory stores) live in `testing/` folders: what the daemon runs never imports them.
      { files: [`src/${layer}/**/*.ts`], ignores: ["src/**/testing/**"], rules: rule([...(layers.group.length > 0 ? [layers] : []), TESTING]) },
      { files: [`src/${layer}/**/testing/**/*.ts`], rules: rule(layers.group.length > 0 ? [layers] : []) },
    ];
  });
}

const TESTING = { group: ["**/testing/**"], message: "production code does not import test seams (src/**/testing/, STYLE.md)" };

export default tseslint.config(
  { ignores: [".tmp/**", "test-fixtures/**", "state/**", "**/*.mjs", "**/*.cjs", "dist/**", "node_modules/**", "bench/results/**", "test-artifacts/**", "src/output/static/**", "**/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A dropped promise in a supervisor is a silent hang at a checkpoint: these are errors, not warnings.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  // Layers (STYLE.md, docs/design/0008-layers.md): core <- ingest <- decode <- verify <- lane <- output,
  // then config (it only composes the stages' option schemas), app (the wiring) and cli. A stage owns
  // its options and imports only core and the stages before it.
  ...layerRules({
    core: [],
    ingest: ["core"],
    decode: ["core", "ingest"],
    verify: ["core"],
    lane: ["core", "verify"],
    output: ["core", "ingest", "verify", "lane"],
    config: LAYERS,
    app: LAYERS,
    cli: LAYERS,
  }),
);
