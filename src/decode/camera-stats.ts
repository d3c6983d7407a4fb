import type { DecodedCode, LumaFrame } from "../core/types.js";
import { boundsAround, type Rect } from "./preprocess.js";

export interface CameraCounters {
  /** Frames handed to the pool. */
  submitted: number;
  /** Frames in which at least one code was read. */
  decoded: number;
  /** Frames superseded in the camera's slot by a newer frame before a worker took them (all classes). */
  dropped: number;
  /** Frames queued as active or watch class: a code in view, a finder pattern found, or a code read moments ago. */
  queuedInView: number;
  /** The part of `dropped` that was active or watch class (of `queuedInView`). */
  droppedInView: number;
  /** Frames not decoded: nothing in view, no finder pattern, slow schedule not due. */
  prefiltered: number;
  /** Frames the prefilter let through (finder pattern found). */
  prefilterHits: number;
  /** Main-thread ms spent in the prefilter. */
  prefilterMs: number;
  /** Idle frames decoded in full on the slow schedule. */
  slowScheduled: number;
  /** Frames whose cascade stopped escalating because a more urgent frame waited (early-stop.ts). */
  stoppedEarly: number;
  failed: number;
  lastDecodeMs?: number;
}

/** A code seen this recently (ms, receive-time domain) still steers the crop pass. */
const HINT_TTL_MS = 3000;
/** Crop margin around the last code, as a fraction of its size: people move between frames. */
const HINT_MARGIN = 0.6;

interface Hint {
  corners: [number, number][];
  at: number;
  width: number;
  height: number;
}

/** Per-camera counters and the "where was the last code" hint for the crop pass. */
export class CameraStats {
  private readonly counters = new Map<string, CameraCounters>();
  private readonly hints = new Map<string, Hint>();

  camera(id: string): CameraCounters {
    let c = this.counters.get(id);
    if (!c) this.counters.set(id, (c = { submitted: 0, decoded: 0, dropped: 0, queuedInView: 0, droppedInView: 0, prefiltered: 0, prefilterHits: 0, prefilterMs: 0, slowScheduled: 0, stoppedEarly: 0, failed: 0 }));
    return c;
  }

  snapshot(): Record<string, CameraCounters> {
    return Object.fromEntries([...this.counters].map(([k, v]) => [k, { ...v }]));
  }

  setHint(f: LumaFrame, codes: readonly DecodedCode[]): void {
    this.hints.set(f.cameraId, { corners: codes.flatMap((c) => c.corners.map(([x, y]) => [x, y] as [number, number])), at: f.receivedAt, width: f.width, height: f.height });
  }

  hint(f: LumaFrame): Rect | undefined {
    const h = this.hints.get(f.cameraId);
    if (!h || f.receivedAt - h.at > HINT_TTL_MS || h.width !== f.width || h.height !== f.height) return undefined;
    return boundsAround(h.corners, f.width, f.height, HINT_MARGIN);
  }
}
