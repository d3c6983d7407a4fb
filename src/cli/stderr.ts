import { secretMasker } from "../core/mask.js";

/**
 * The CLI's error output: config problems and start-up failures quote URLs and values that came
 * from the environment, and under systemd stderr goes to the journal. Masked like the log sink.
 */
export function writeErr(text: string): void {
  process.stderr.write(secretMasker.mask(text));
}
