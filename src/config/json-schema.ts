import { configJsonSchema } from "./schema.js";

/** The committed editor schema; `npm run schema` rewrites it and a test fails when it is stale. */
export const JSON_SCHEMA_PATH = "config/config.schema.json";

export function renderJsonSchema(): string {
  const schema = { $schema: "https://json-schema.org/draft/2020-12/schema", title: "checkpoint-gateway config", ...(configJsonSchema() as object) };
  return JSON.stringify(schema, null, 2) + "\n";
}
