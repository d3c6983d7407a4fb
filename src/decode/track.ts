/**
 * Cross-frame symbol tracking (pure, per camera). A camera sees a presented code for 15-30 frames;
 * on a hard frame zxing often locates the symbol (finder patterns, an outline) but cannot decode
 * it, and on the next frame the cheap pass may not even locate it (blur, glare moving over it).
 * The tracker keeps the recent located-but-undecoded quads of each camera, follows them (matched
 * by centre distance, with a smoothed velocity), and turns them into crop hints for the next
 * frames, so the crop pass (2x upscale when small, plain then contrast-stretched) keeps spending
 * on the symbol while it is in view. A decoded code ends the tracks it covers: the pool's
 * last-code hint takes over there. It also carries regrid's module evidence (votes.ts) from a
 * camera's frame to its next ones, for the same ttl. Time is the frames' `receivedAt`, so replays
 * are deterministic.
 */
import type { DecodedCode, Point } from "../core/types.js";
import { boundsAround, cornerBox, type Rect } from "./preprocess.js";
import type { ModuleEvidence } from "./votes.js";

export type TrackQuad = readonly [Point, Point, Point, Point] | readonly Point[];

export interface TrackerOptions {
  /** A track not seen for this long (ms) is dropped: the traveller has moved on. */
  ttlMs: number;
  /** Tracks (crop hints) per camera; each costs one or two small crop decodes per frame. */
  maxTracks: number;
  /** Crop margin as a fraction of the symbol's size (the outline is rough, the hand moves). */
  margin: number;
  /** Extra margin per 100 ms since the track was last seen (it may have drifted). */
  marginPer100Ms: number;
  /** A candidate joins a track when its centre is within this fraction of the track's size. */
  matchFactor: number;
}

export const trackerDefaults: TrackerOptions = { ttlMs: 1000, maxTracks: 2, margin: 0.5, marginPer100Ms: 0.1, matchFactor: 0.75 };

interface FrameRef {
  width: number;
  height: number;
  receivedAt: number;
}

export interface Track {
  /** Centre and size (longest side of the bounding box) in frame pixels when last seen. */
  cx: number;
  cy: number;
  size: number;
  /** Smoothed velocity, px per ms. */
  vx: number;
  vy: number;
  firstAt: number;
  lastAt: number;
  /** Frames in which it was located. */
  seen: number;
}

interface CameraTracks {
  width: number;
  height: number;
  tracks: Track[];
  /** regrid's module evidence from the latest frame that had some (votes.ts), and that frame's time. */
  evidence?: { at: number; items: readonly ModuleEvidence[] };
}

function centre(q: readonly Point[]): { cx: number; cy: number; size: number } {
  const { x0, y0, x1, y1 } = cornerBox(q);
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, size: Math.max(x1 - x0, y1 - y0, 1) };
}

function inside(x: number, y: number, q: readonly Point[]): boolean {
  const c = centre(q);
  return Math.abs(x - c.cx) <= c.size / 2 && Math.abs(y - c.cy) <= c.size / 2;
}

/** Whether a decoded code is the tracked symbol: either centre lies inside the other's box. */
function covers(t: Track, corners: readonly Point[]): boolean {
  const c = centre(corners);
  return inside(t.cx, t.cy, corners) || (Math.abs(c.cx - t.cx) <= t.size / 2 && Math.abs(c.cy - t.cy) <= t.size / 2);
}

export class SymbolTracker {
  private readonly cams = new Map<string, CameraTracks>();
  private readonly o: TrackerOptions;

  constructor(opts: Partial<TrackerOptions> = {}) {
    this.o = { ...trackerDefaults, ...opts };
  }

  /**
   * Feeds one decoded frame's outcome: its codes, the symbols located but not decoded, and the
   * module evidence regrid carried on (votes.ts), when it ran.
   */
  observe(cameraId: string, frame: FrameRef, codes: readonly DecodedCode[], candidates: readonly TrackQuad[], evidence?: readonly ModuleEvidence[]): void {
    let cam = this.cams.get(cameraId);
    if (!cam || cam.width !== frame.width || cam.height !== frame.height) {
      cam = { width: frame.width, height: frame.height, tracks: [] };
      this.cams.set(cameraId, cam);
    }
    const now = frame.receivedAt;
    // Out-of-order results (two workers) must not move a track backwards in time.
    let tracks = cam.tracks.filter((t) => now - t.lastAt <= this.o.ttlMs);
    for (const q of candidates) {
      if (q.length < 4) continue;
      const c = centre(q);
      if (codes.some((code) => inside(c.cx, c.cy, code.corners))) continue;
      let best: Track | undefined, bestD = Infinity;
      for (const t of tracks) {
        const dt = Math.max(0, now - t.lastAt);
        const d = Math.hypot(c.cx - (t.cx + t.vx * dt), c.cy - (t.cy + t.vy * dt));
        if (d < bestD && d <= this.o.matchFactor * Math.max(t.size, c.size)) {
          best = t;
          bestD = d;
        }
      }
      if (best) {
        const dt = now - best.lastAt;
        if (dt > 0) {
          // Smoothed: one noisy outline must not fling the hint across the frame.
          best.vx = 0.5 * best.vx + 0.5 * ((c.cx - best.cx) / dt);
          best.vy = 0.5 * best.vy + 0.5 * ((c.cy - best.cy) / dt);
          best.lastAt = now;
        }
        Object.assign(best, { cx: c.cx, cy: c.cy, size: c.size });
        best.seen++;
      } else {
        tracks.push({ cx: c.cx, cy: c.cy, size: c.size, vx: 0, vy: 0, firstAt: now, lastAt: now, seen: 1 });
      }
    }
    // A decoded code ends the tracks it covers (the last-code hint covers it from now on).
    tracks = tracks.filter((t) => !codes.some((code) => covers(t, code.corners)));
    tracks.sort((a, b) => b.lastAt - a.lastAt || b.seen - a.seen);
    cam.tracks = tracks.slice(0, this.o.maxTracks);
    // Evidence of a later frame already in (two workers) is not replaced by an earlier one's; a
    // symbol read is not summed further.
    if (evidence && evidence.length > 0 && (!cam.evidence || cam.evidence.at <= now)) cam.evidence = { at: now, items: evidence };
    if (cam.evidence && codes.length > 0) {
      const items = cam.evidence.items.filter((e) => !codes.some((code) => inside((e.tr[0] + e.bl[0]) / 2, (e.tr[1] + e.bl[1]) / 2, code.corners)));
      cam.evidence = items.length > 0 ? { at: cam.evidence.at, items } : undefined;
    }
  }

  /** The module evidence for a camera's next frame: the latest, while the traveller may still be in view (ttlMs). */
  evidence(cameraId: string, frame: FrameRef): readonly ModuleEvidence[] {
    const cam = this.cams.get(cameraId);
    if (!cam?.evidence || cam.width !== frame.width || cam.height !== frame.height) return [];
    const dt = frame.receivedAt - cam.evidence.at;
    return dt >= 0 && dt <= this.o.ttlMs ? cam.evidence.items : [];
  }

  /** Crop regions for a camera's next frame: live tracks, moved by their velocity, most recent first. */
  hints(cameraId: string, frame: FrameRef): Rect[] {
    const cam = this.cams.get(cameraId);
    if (!cam || cam.width !== frame.width || cam.height !== frame.height) return [];
    const out: Rect[] = [];
    for (const t of cam.tracks) {
      const dt = frame.receivedAt - t.lastAt;
      if (dt < 0 || dt > this.o.ttlMs) continue;
      const px = t.cx + t.vx * dt, py = t.cy + t.vy * dt;
      const margin = this.o.margin + (this.o.marginPer100Ms * dt) / 100;
      // A square around the centre: a QR symbol is roughly square in view, and a located outline
      // is often only part of it (one edge, a finder pattern), so its own shape would cut it off.
      const half = t.size / 2;
      const r = boundsAround([[px - half, py - half], [px + half, py + half]], frame.width, frame.height, margin);
      if (r) out.push(r);
    }
    return out;
  }

  tracks(cameraId: string): readonly Track[] {
    return this.cams.get(cameraId)?.tracks ?? [];
  }

  forget(cameraId: string): void {
    this.cams.delete(cameraId);
  }
}
