/**
 * The zero-copy counterpart of FrameSlicer. FrameSlicer copies chunks that have already arrived;
 * FrameFiller says where the next bytes must land (`target()`), so a socket read with
 * `net.connect({ onread })` puts them straight into the frame buffer: no Buffer per chunk, no
 * copy in JS. Bytes past the Y plane (the chroma of `yuv420p`) land in a small scratch buffer and
 * are dropped. A frame is handed on only when all of its bytes arrived; a partial frame goes away
 * with the filler (process exit).
 */
export class FrameFiller {
  private buf: Uint8Array | null = null;
  private filled = 0;
  private readonly scratch: Uint8Array;

  constructor(
    private readonly frameBytes: number,
    private readonly keepBytes: number,
    private readonly onFrame: (luma: Uint8Array) => void,
    private readonly alloc: (bytes: number) => Uint8Array = (n) => new Uint8Array(n),
  ) {
    if (keepBytes > frameBytes || keepBytes <= 0) throw new RangeError(`bad frame layout ${keepBytes}/${frameBytes}`);
    this.scratch = new Uint8Array(Math.min(frameBytes - keepBytes, 256 * 1024));
  }

  /** Where the next read may write: the rest of the current frame's Y plane, or scratch for the bytes after it. */
  target(): Uint8Array {
    if (this.filled < this.keepBytes) {
      this.buf ??= this.alloc(this.keepBytes);
      return this.buf.subarray(this.filled);
    }
    return this.scratch.subarray(0, Math.min(this.scratch.length, this.frameBytes - this.filled));
  }

  /** `n` bytes were written at the start of the last `target()`. A whole frame is handed on at once. */
  advance(n: number): void {
    const room = this.filled < this.keepBytes ? this.keepBytes - this.filled : this.frameBytes - this.filled;
    if (!(n > 0 && n <= room)) throw new RangeError(`read of ${n} bytes into a target of ${room}`);
    this.filled += n;
    if (this.filled === this.frameBytes) {
      const frame = this.buf!;
      this.buf = null;
      this.filled = 0;
      this.onFrame(frame);
    }
  }

  /** Bytes of an incomplete frame currently held. */
  get pendingBytes(): number {
    return this.filled;
  }
}
