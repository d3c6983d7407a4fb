import { recordLine, type SpoolRecord } from "./spool-file.js";

/**
 * The records waiting for Redis, in position order, with their byte total and the size of the
 * batch Redis is working on (`inflight`). Pure bookkeeping: the pump takes and acknowledges
 * batches, the spool bound drops from the front, and nothing drops what a batch still holds.
 */
export class PendingQueue {
  private records: SpoolRecord[] = [];
  /** Bytes of the pending records as written to the spool file. */
  bytes = 0;
  /** Records at the front that a forward call is working on; 0 when none is. */
  inflight = 0;

  get length(): number {
    return this.records.length;
  }

  /** Replaces the content (a start: what the spool file still held). */
  reset(records: SpoolRecord[]): void {
    this.records = records;
    this.bytes = records.reduce((a, r) => a + r.bytes, 0);
    this.inflight = 0;
  }

  push(r: SpoolRecord): void {
    this.records.push(r);
    this.bytes += r.bytes;
  }

  /** Records older than every queued one go back to the front (nothing may be in flight). */
  putBack(records: readonly SpoolRecord[]): void {
    if (records.length === 0) return;
    this.records = [...records, ...this.records];
    this.bytes += records.reduce((a, r) => a + r.bytes, 0);
  }

  /** The next batch (oldest first); it stays queued, marked in flight, until `ack` or `release`. */
  take(max: number): SpoolRecord[] {
    const batch = this.records.slice(0, max);
    this.inflight = batch.length;
    return batch;
  }

  /** Redis has the first `count` records: they leave the queue. */
  ack(count: number): void {
    for (const r of this.records.splice(0, count)) this.bytes -= r.bytes;
    this.inflight = 0;
  }

  /** The batch was not forwarded: it stays, and may be dropped by the bound again. */
  release(): void {
    this.inflight = 0;
  }

  /**
   * Drops the oldest records until the bytes fit `maxBytes`; never while a batch is in flight (its
   * result would then acknowledge records that are gone). Returns how many went and the position of
   * the last one, or undefined when nothing was dropped.
   */
  dropOver(maxBytes: number): { dropped: number; lastN: number } | undefined {
    if (this.inflight > 0) return undefined;
    let dropped = 0;
    let lastN = 0;
    while (this.bytes > maxBytes && this.records.length > 0) {
      const r = this.records.shift()!;
      this.bytes -= r.bytes;
      lastN = r.n;
      dropped++;
    }
    return dropped > 0 ? { dropped, lastN } : undefined;
  }

  /** The spool file lines of every pending record (for a rewrite). */
  lines(): string[] {
    return this.records.map((r) => recordLine(r.n, r.json));
  }
}
