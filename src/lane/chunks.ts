/**
 * Chunked SMART Health Cards (`shc:/i/n/...`) arrive as several QR codes, in one frame or over
 * several frames. The verifier's assembler joins them; this wrapper adds presentation semantics:
 * once a card is assembled, further sightings of its chunks are sightings of the assembled card
 * (one verdict), and its first sighting is the first chunk's.
 */
export interface ChunkAssemblerPort {
  /** Feeds one chunk; returns the assembled `shc:/` text once every chunk of a card is there. */
  add(chunkText: string, nowMs: number): string | undefined;
}

const CHUNK = /^shc:\/(\d+)\/(\d+)\//;

export function isShcChunk(text: string): boolean {
  return CHUNK.test(text);
}

export interface ChunkOutcome {
  /** Hash key of the assembled card this chunk belongs to, when known. */
  assembledKey?: string;
  /** Assembled text, only on the call that completed the card. */
  assembledText?: string;
  /** Monotonic ms of the first chunk of the card seen. */
  firstSeen: number;
}

export class ChunkGatherer {
  /** chunk hash -> assembled card key, for chunks of cards already assembled. */
  private readonly known = new Map<string, { key: string; lastSeen: number }>();
  /** chunks fed but not yet assembled, by total count n. */
  private pending: Array<{ hash: string; n: string; firstSeen: number }> = [];

  constructor(
    private readonly assembler: ChunkAssemblerPort,
    private readonly hash: (text: string) => string,
    private readonly leaveMs: number,
  ) {}

  add(text: string, at: number, nowMs: number): ChunkOutcome {
    this.expire(at);
    const h = this.hash(text);
    const k = this.known.get(h);
    if (k) {
      k.lastSeen = Math.max(k.lastSeen, at);
      return { assembledKey: k.key, firstSeen: at };
    }
    const n = CHUNK.exec(text)?.[2] ?? "?";
    if (!this.pending.some((p) => p.hash === h)) this.pending.push({ hash: h, n, firstSeen: at });
    const full = this.assembler.add(text, nowMs);
    if (full === undefined) return { firstSeen: at };
    const key = this.hash(full);
    const mine = this.pending.filter((p) => p.n === n);
    this.pending = this.pending.filter((p) => p.n !== n);
    const firstSeen = Math.min(at, ...mine.map((p) => p.firstSeen));
    for (const p of mine) this.known.set(p.hash, { key, lastSeen: at });
    return { assembledKey: key, assembledText: full, firstSeen };
  }

  /** Chunks seen but not (yet) assembled: telemetry for cards shown incompletely. */
  get pendingCount(): number {
    return this.pending.length;
  }

  private expire(at: number): void {
    for (const [h, k] of this.known) if (at - k.lastSeen > this.leaveMs) this.known.delete(h);
    // A chunk that never completed its card is forgotten after a generous multiple of leaveMs.
    this.pending = this.pending.filter((p) => at - p.firstSeen <= this.leaveMs * 4);
  }
}
