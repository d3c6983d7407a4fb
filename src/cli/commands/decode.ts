/**
 * `decode [--json] [--as-camera] FILE...`: read QR codes from PNG/JPEG/WebP files, one line per file.
 * `--as-camera` runs exactly what a live camera frame gets by default: the image fit inside the
 * default camera frame (1920x1080) and the decode section's default passes and per-frame budget,
 * so the CLI measures what the daemon does. Without it, files get the file-decode defaults
 * (native resolution, every pass, 10 s budget).
 * Video files (`.ts`, `.mp4`, ...) go through the camera path frame by frame: decode-clip.ts.
 * An unreadable file yields an error line (JSON: `"error"`) and exit code 1 after all files ran;
 * it never stops the others. Corners are in the stored pixel grid (EXIF orientation not applied).
 */
import { parse, UsageError } from "../args.js";
import { decodeImageAsCamera, decodeImageFile } from "../../decode/index.js";
import type { DecodedCode } from "../../core/types.js";
import { decodeClipCommand, isVideoFile } from "./decode-clip.js";

const usage = "usage: checkpoint-gateway decode [--json] [--as-camera] [--every-frame] [--cpu-clock] FILE...  (images, or video clips .ts/.mp4)";

export default async function decodeCommand(args: string[]): Promise<number> {
  let json: boolean;
  let asCamera: boolean;
  let files: string[];
  let everyFrame: boolean;
  let cpuClock: boolean;
  try {
    const p = parse(args, { json: { type: "boolean" }, "as-camera": { type: "boolean" }, "every-frame": { type: "boolean" }, "cpu-clock": { type: "boolean" }, help: { type: "boolean", short: "h" } });
    if (p.values.help) {
      process.stdout.write(usage + "\n");
      return 0;
    }
    json = p.values.json === true;
    everyFrame = p.values["every-frame"] === true;
    cpuClock = p.values["cpu-clock"] === true;
    asCamera = p.values["as-camera"] === true;
    files = p.positionals;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n${usage}\n`);
    return 64;
  }
  if (files.length === 0) {
    process.stderr.write(usage + "\n");
    return 64;
  }
  let failed = 0;
  for (const file of files) {
    if (isVideoFile(file)) {
      if ((await decodeClipCommand(file, json, everyFrame, cpuClock)) !== 0) failed++;
      continue;
    }
    try {
      const cam = asCamera ? await decodeImageAsCamera(file) : undefined;
      const r = cam ?? (await decodeImageFile(file));
      const codes = r.codes.map(codeJson);
      const frame = cam?.frame;
      if (json) process.stdout.write(JSON.stringify({ file, width: r.width, height: r.height, ms: round(r.ms, 2), codes, ...(frame ? { frame } : {}) }) + "\n");
      else {
        const as = frame ? ` (as camera: ${frame.width}x${frame.height}, [${frame.passes.join(", ")}], budget ${frame.budgetMs} ms)` : "";
        process.stdout.write(`${file}: ${r.width}x${r.height}${as}, ${codes.length} code(s), ${r.ms.toFixed(1)} ms\n`);
        for (const c of codes) process.stdout.write(`  ${c.format} at ${c.corners.map((p) => `(${p[0]},${p[1]})`).join(" ")}: ${c.text}\n`);
      }
    } catch (e) {
      failed++;
      const err = e as { code?: string; message?: string };
      const message = `${err.code ?? "GW_IMAGE_UNREADABLE"}: ${err.message ?? String(e)}`;
      if (json) process.stdout.write(JSON.stringify({ file, error: message }) + "\n");
      else process.stderr.write(`${file}: ${message}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

function codeJson(c: DecodedCode) {
  return {
    text: c.text,
    bytesBase64: Buffer.from(c.bytes).toString("base64"),
    format: c.format,
    corners: c.corners.map(([x, y]) => [round(x, 1), round(y, 1)]),
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
