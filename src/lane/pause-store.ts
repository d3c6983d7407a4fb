import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";

/**
 * Which lanes an officer paused, kept under `stateDir/lanes/paused.json` so a paused lane stays
 * paused across a restart (a closed lane must not silently reopen after a power cut). Replaced
 * atomically (atomic-file.ts: fsync, rename, fsync of the directory, which makes the rename itself
 * durable): the file is either the old or the new list, never torn.
 */
export interface PauseStore {
  /** Lanes paused when the store was read (missing file = none). */
  load(): { paused: string[]; error?: string };
  save(paused: Iterable<string>): void;
}

export class FilePauseStore implements PauseStore {
  private readonly dir: string;
  private readonly file: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, "lanes");
    this.file = join(this.dir, "paused.json");
  }

  load(): { paused: string[]; error?: string } {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return { paused: [] };
      return { paused: [], error: (e as Error).message };
    }
    try {
      const v = JSON.parse(text) as { paused?: unknown };
      if (!Array.isArray(v.paused) || !v.paused.every((x) => typeof x === "string")) return { paused: [], error: "paused.json: expected {\"paused\": [lane ids]}" };
      return { paused: v.paused as string[] };
    } catch (e) {
      return { paused: [], error: `paused.json: ${(e as Error).message}` };
    }
  }

  save(paused: Iterable<string>): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.file, JSON.stringify({ paused: [...new Set(paused)].sort() }) + "\n");
  }
}
