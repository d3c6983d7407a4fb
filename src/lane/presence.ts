/**
 * Presentation tracking: a code held up to the cameras is seen in many consecutive frames,
 * sometimes by two cameras of the lane at once. It counts as ONE presentation until it has
 * been out of view for `leaveMs`. Keys are short salted hashes of the QR text, never the text.
 * Pure: the caller passes monotonic times (frame receive times); no timers.
 */
export interface Presentation {
  key: string;
  /** Monotonic ms of the first frame in which the code was read in this presentation. */
  firstSeen: number;
  lastSeen: number;
  /** Frames of the lane decoded from the first sighting up to the verdict (the first included). */
  framesTried: number;
  /** Frames of the lane in which this code was in view but not read (after the first sighting). */
  missedReads: number;
  /** Set once the verdict for this presentation has been published. */
  decided: boolean;
}

export type Sighting = { kind: "new"; presentation: Presentation } | { kind: "seen"; presentation: Presentation };

export class PresenceTracker {
  private readonly live = new Map<string, Presentation>();

  /**
   * `from`: the tracker of the lane this one replaces (a config reload), so a code held through the
   * reload stays one presentation (a second verdict would be a false REPLAYED).
   */
  constructor(
    private readonly leaveMs: number,
    from?: PresenceTracker,
  ) {
    if (from) for (const [key, p] of from.live) this.live.set(key, { ...p });
  }

  /** Records that `key` was read in a frame received at `at`. */
  sight(key: string, at: number): Sighting {
    const cur = this.live.get(key);
    if (cur && at - cur.lastSeen <= this.leaveMs) {
      // Frames of two cameras can arrive out of order: never move lastSeen backwards.
      cur.lastSeen = Math.max(cur.lastSeen, at);
      return { kind: "seen", presentation: cur };
    }
    const p: Presentation = { key, firstSeen: at, lastSeen: at, framesTried: 0, missedReads: 0, decided: false };
    this.live.set(key, p);
    return { kind: "new", presentation: p };
  }

  /**
   * Called once per decoded frame of the lane with the keys read in it: counts frames tried for
   * undecided presentations and misses for presentations still in view, and forgets the ones
   * that have left (so the map stays as small as the number of codes in view).
   */
  frame(at: number, readKeys: ReadonlySet<string>): number {
    let misses = 0;
    for (const [key, p] of this.live) {
      if (at - p.lastSeen > this.leaveMs) {
        this.live.delete(key);
        continue;
      }
      if (!p.decided) p.framesTried++;
      if (!readKeys.has(key)) {
        p.missedReads++;
        misses++;
      }
    }
    return misses;
  }

  anyUndecided(): boolean {
    for (const p of this.live.values()) if (!p.decided) return true;
    return false;
  }

  get(key: string): Presentation | undefined {
    return this.live.get(key);
  }

  /**
   * Forgets a presentation whose verdict was dropped (the lane left service while deciding), so
   * its next sighting is decided afresh instead of waiting forever for a verdict. A newer
   * presentation of the same code is left alone.
   */
  forget(p: Presentation): void {
    if (this.live.get(p.key) === p) this.live.delete(p.key);
  }

  get size(): number {
    return this.live.size;
  }
}
