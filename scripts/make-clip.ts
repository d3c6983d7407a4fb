/**
 * `node dist/scripts/make-clip.js PHOTO OUT.ts [--seed N] [--seconds S] [--kbps K]`: one
 * presentation clip from a still photo (hand motion, motion blur, noise, 1080p15 H.264 MPEG-TS).
 * Keep clips made from third-party photos out of the repo: write them under
 * test-fixtures/generated/ (gitignored) or elsewhere.
 */
import { parseArgs } from "node:util";
import { makeClip } from "./clip-gen.js";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { seed: { type: "string", default: "1" }, seconds: { type: "string" }, kbps: { type: "string" } },
  });
  const [photo, out] = positionals;
  if (!photo || !out) {
    process.stderr.write("usage: make-clip PHOTO OUT.ts [--seed N] [--seconds S] [--kbps K]\n");
    return 64;
  }
  const info = await makeClip(photo, out, {
    seed: Number(values.seed),
    ...(values.seconds ? { durationS: Number(values.seconds) } : {}),
    ...(values.kbps ? { bitrateKbps: Number(values.kbps) } : {}),
  });
  process.stdout.write(`${info.file}: ${info.frames} frames at ${info.fps} fps, ${info.width}x${info.height}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`make-clip: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
