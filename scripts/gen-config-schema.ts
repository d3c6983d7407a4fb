import { writeFileSync } from "node:fs";
import { JSON_SCHEMA_PATH, renderJsonSchema } from "../src/config/json-schema.js";

writeFileSync(JSON_SCHEMA_PATH, renderJsonSchema());
console.log(`wrote ${JSON_SCHEMA_PATH}`);
