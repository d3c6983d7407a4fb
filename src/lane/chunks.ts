/**
 * Chunked SMART Health Cards (`shc:/i/n/...`) arrive as several QR codes, in one frame or over
 * several frames. The verifier's assembler joins them; this wrapper adds presentation semantics:
 * once a card is assembled, further sightings of its chunks are sightings of the assembled card
 * (one verdict), and its first sighting is its first chunk's. Times are the frames' monotonic
 * receive times.
 */
export interface AssembledCard {
  text: string;
  /** The chunk texts the card was made of. */
  parts: string[];
  /** Other chunks of a card of its size were in view: it may be a splice of two travellers' cards. */
  ambiguous: boolean;
}

export interface ChunkAssemblerPort {
  /** Feeds one frame's chunks; returns the cards they complete. */
  addFrame(chunkTexts: readonly string[], atMs: number): AssembledCard[];
  /** The card was a splice: its chunks are candidates again, and this combination is not offered again. */
  reject(card: AssembledCard): void;
}

const CHUNK = /^shc:\/(\d+)\/(\d+)\//;

export function isShcChunk(text: string): boolean {
  return CHUNK.test(text);
}

export interface ChunkSighting {
  /** Hash key of the assembled card. */
  key: string;
  card: AssembledCard;
  /** Monotonic ms of the card's first chunk seen (this frame's time for a card assembled before). */
  firstSeen: number;
}

export class ChunkGatherer {
  /** chunk hash -> the card it is part of, for chunks of cards assembled. */
  private readonly known = new Map<string, { key: string; card: AssembledCard; lastSeen: number }>();
  /** chunks fed but not (yet) part of a card, with their first and last sightings. */
  private readonly pending = new Map<string, { firstSeen: number; lastSeen: number }>();

  /** `from`: the gatherer of the lane this one replaces (a reload), whose cards in view stay known. */
  constructor(
    private readonly assembler: ChunkAssemblerPort,
    private readonly hash: (text: string) => string,
    private readonly leaveMs: number,
    from?: ChunkGatherer,
  ) {
    if (from) {
      for (const [h, k] of from.known) this.known.set(h, { ...k });
      for (const [h, p] of from.pending) this.pending.set(h, { ...p });
    }
  }

  /** The chunks read in one frame: one sighting per card they belong to (known or completed now). */
  frame(texts: readonly string[], at: number): ChunkSighting[] {
    this.expire(at);
    const out = new Map<string, ChunkSighting>();
    const fresh: string[] = [];
    for (const text of texts) {
      const h = this.hash(text);
      const k = this.known.get(h);
      if (k) {
        k.lastSeen = Math.max(k.lastSeen, at);
        if (!out.has(k.key)) out.set(k.key, { key: k.key, card: k.card, firstSeen: at });
        continue;
      }
      const p = this.pending.get(h);
      if (p) p.lastSeen = Math.max(p.lastSeen, at);
      else this.pending.set(h, { firstSeen: at, lastSeen: at });
      fresh.push(text);
    }
    if (fresh.length === 0) return [...out.values()];
    for (const card of this.assembler.addFrame(fresh, at)) {
      const key = this.hash(card.text);
      let firstSeen = at;
      // Only the chunks the card was made of: another traveller's chunks in view stay pending.
      for (const part of card.parts) {
        const h = this.hash(part);
        firstSeen = Math.min(firstSeen, this.pending.get(h)?.firstSeen ?? at);
        this.pending.delete(h);
        this.known.set(h, { key, card, lastSeen: at });
      }
      out.set(key, { key, card, firstSeen });
    }
    return [...out.values()];
  }

  /** The card turned out to be a splice of two cards: its chunks are no longer its, and the assembler tries other combinations. */
  reject(card: AssembledCard): void {
    const key = this.hash(card.text);
    for (const part of card.parts) {
      const h = this.hash(part);
      const k = this.known.get(h);
      if (k?.key !== key) continue;
      this.known.delete(h);
      this.pending.set(h, { firstSeen: k.lastSeen, lastSeen: k.lastSeen });
    }
    this.assembler.reject(card);
  }

  /** Chunks seen but not (yet) part of a card: telemetry for cards shown incompletely. */
  get pendingCount(): number {
    return this.pending.size;
  }

  private expire(at: number): void {
    for (const [h, k] of this.known) if (at - k.lastSeen > this.leaveMs) this.known.delete(h);
    // A chunk not seen for leaveMs has left with its holder: it must not complete the next traveller's card.
    for (const [h, p] of this.pending) if (at - p.lastSeen > this.leaveMs) this.pending.delete(h);
  }
}
