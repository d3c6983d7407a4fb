import { execFileSync } from "node:child_process";
import { join } from "node:path";

/**
 * A short looping clip with no code in it (lavfi testsrc2: a moving pattern, so the picture check
 * sees a live picture), for tests that run the real CLI with `source: file` cameras.
 */
export function codeFreeClip(dir: string, width = 320, height = 240, fps = 5): string {
  const file = join(dir, `testsrc-${width}x${height}-${fps}.ts`);
  execFileSync("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=${fps}`, "-t", "4", "-c:v", "mpeg2video", "-q:v", "4", file]);
  return file;
}
