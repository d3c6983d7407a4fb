/**
 * Recycles frame-sized buffers. Each camera frame is 1-3 MB; allocating one per frame at 15 fps
 * per camera made garbage collection the largest cost on the main thread (bench:e2e profile).
 * Ingest takes buffers here; the decode pool gives them back when a worker returns one (workers
 * transfer the frame buffer back with their result) or when a newer frame superseded it; the
 * change gate gives back frames it skips. A buffer is given back only by the stage that owns it
 * at that moment, so no two users ever share one. Bounded, so a burst cannot pin memory.
 */
export class FrameBuffers {
  private readonly free = new Map<number, Uint8Array[]>();
  /** Buffers handed out that came from the free list (for tests and stats). */
  reused = 0;

  constructor(private readonly maxPerSize = 12) {}

  take(size: number): Uint8Array {
    const b = this.free.get(size)?.pop();
    if (b) {
      this.reused++;
      return b;
    }
    return new Uint8Array(size);
  }

  /** Returns a buffer for reuse. Views into a larger buffer and detached (transferred) buffers are ignored. */
  give(buf: Uint8Array): void {
    if (buf.byteLength === 0 || buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength) return;
    let list = this.free.get(buf.byteLength);
    if (!list) this.free.set(buf.byteLength, (list = []));
    if (list.length < this.maxPerSize) list.push(buf);
  }
}
