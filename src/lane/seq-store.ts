import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Per-lane verdict sequence numbers. Event ids are `gateway:lane:seq` and must stay unique
 * across restarts (the ledger and Redis streams de-duplicate by id), so the counter is kept on
 * disk. A verdict is a human event (a few per minute): one small synchronous write each is fine.
 */
export interface SeqStore {
  next(lane: string): number;
  current(lane: string): number;
}

export class MemorySeqStore implements SeqStore {
  private readonly seqs = new Map<string, number>();
  next(lane: string): number {
    const n = (this.seqs.get(lane) ?? 0) + 1;
    this.seqs.set(lane, n);
    return n;
  }
  current(lane: string): number {
    return this.seqs.get(lane) ?? 0;
  }
}

export class FileSeqStore implements SeqStore {
  private readonly seqs = new Map<string, number>();
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, "lanes");
    mkdirSync(this.dir, { recursive: true });
  }

  current(lane: string): number {
    let n = this.seqs.get(lane);
    if (n === undefined) {
      n = 0;
      try {
        const parsed = Number.parseInt(readFileSync(this.file(lane), "utf8").trim(), 10);
        if (Number.isSafeInteger(parsed) && parsed > 0) n = parsed;
      } catch {
        // No file yet (first run) or unreadable: start at 0.
      }
      this.seqs.set(lane, n);
    }
    return n;
  }

  next(lane: string): number {
    const n = this.current(lane) + 1;
    this.seqs.set(lane, n);
    const tmp = this.file(lane) + ".tmp";
    try {
      writeFileSync(tmp, String(n) + "\n");
      renameSync(tmp, this.file(lane));
    } catch {
      // A full or read-only disk must not stop verdicts: ids stay unique within this run.
    }
    return n;
  }

  private file(lane: string): string {
    return join(this.dir, `${lane}.seq`);
  }
}
