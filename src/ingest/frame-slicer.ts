/**
 * Cuts ffmpeg's byte stream into exact frame-size slices. Only the first `keepBytes` of each
 * frame (the Y plane) are copied, into a fresh buffer per frame because decode transfers it
 * to a worker. A partial frame at process exit is simply discarded with the slicer.
 */
export class FrameSlicer {
  private buf: Uint8Array | null = null;
  private filled = 0;

  constructor(
    private readonly frameBytes: number,
    private readonly keepBytes: number,
    private readonly onFrame: (luma: Uint8Array) => void,
    private readonly alloc: (bytes: number) => Uint8Array = (n) => new Uint8Array(n),
  ) {
    if (keepBytes > frameBytes || frameBytes <= 0) throw new RangeError(`bad frame layout ${keepBytes}/${frameBytes}`);
  }

  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      this.buf ??= this.alloc(this.keepBytes);
      const take = Math.min(this.frameBytes - this.filled, chunk.length - off);
      if (this.filled < this.keepBytes) {
        const n = Math.min(take, this.keepBytes - this.filled);
        this.buf.set(chunk.subarray(off, off + n), this.filled);
      }
      this.filled += take;
      off += take;
      if (this.filled === this.frameBytes) {
        const frame = this.buf;
        this.buf = null;
        this.filled = 0;
        this.onFrame(frame);
      }
    }
  }

  /** Bytes of an incomplete frame currently held. */
  get pendingBytes(): number {
    return this.filled;
  }
}
