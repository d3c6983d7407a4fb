/**
 * ffmpeg stderr: kept in a ring buffer of lines (shown, masked, only when the process fails)
 * and scanned for decoder warnings that mean a corrupt or concealed frame.
 */
const CORRUPT = [
  /corrupt/i,
  /error while decoding/i,
  /concealing \d+/i,
  /decode_slice_header error/i,
  /non-existing PPS/i,
  /no frame!/i,
  /missing picture/i,
  /Invalid NAL unit/i,
  /cabac decode .* failed/i,
  /left block unavailable/i,
  /top block unavailable/i,
  /RTP: missed \d+ packets/i,
  /max delay reached/i,
];

export function isCorruptWarning(line: string): boolean {
  return CORRUPT.some((re) => re.test(line));
}

export class StderrLog {
  private lines: string[] = [];
  private partial = "";
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly maxLines: number,
    private readonly onCorrupt: () => void,
  ) {}

  push(chunk: Uint8Array): void {
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const parts = text.split(/\r?\n|\r/);
    this.partial = parts.pop() ?? "";
    // A child that prints without newlines must not grow memory without bound.
    if (this.partial.length > 4096) {
      parts.push(this.partial.slice(0, 4096));
      this.partial = "";
    }
    for (const line of parts) {
      if (line.trim() === "") continue;
      if (isCorruptWarning(line)) this.onCorrupt();
      this.lines.push(line.length > 500 ? line.slice(0, 500) + "..." : line);
      if (this.lines.length > this.maxLines) this.lines.shift();
    }
  }

  /** The last lines (including an unterminated one), oldest first. */
  tail(): string[] {
    return this.partial ? [...this.lines, this.partial] : [...this.lines];
  }
}
