#!/usr/bin/env node
// The CLI runs from the compiled tree; `npm ci` builds it through the `prepare` script.
import { main } from "../dist/src/cli/main.js";

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.message : String(err)); process.exitCode = 1; },
);
