/**
 * Decides which lanes are blind for reasons the lane cannot see itself: the decode pool has no
 * live worker, the frame path after a camera fails (consumer throws, every decode errors), or
 * ingest cannot run ffmpeg at all. Pure: the gateway feeds snapshots on a guarded timer and
 * applies the answer as lane problems (DECODE_DOWN, INGEST_ERROR, CAMERAS_BLIND).
 */

/** Failures in a row before a camera's frame path counts as failing (one timeout is not blindness). */
export const FRAME_PATH_MIN_FAILURES = 3;
/** ...and they must span at least this long with no success in between. */
export const FRAME_PATH_FAILING_MS = 2000;
/** The pool counts as down when no worker has been ready for this long (a replacement starts in ~0.1-0.5 s). */
export const POOL_DOWN_MS = 1500;

/** Per-camera record of the frame path after ingest: submit -> decode -> lane. */
export class FramePathHealth {
  private consecutive = 0;
  private failingSince: number | undefined;
  /** Every failure since start (consumer threw, submit or lane rejected, decode error). */
  errors = 0;

  ok(): void {
    this.consecutive = 0;
    this.failingSince = undefined;
  }

  fail(now: number): void {
    this.errors++;
    this.consecutive++;
    this.failingSince ??= now;
  }

  failing(now: number): boolean {
    return this.failingSince !== undefined && this.consecutive >= FRAME_PATH_MIN_FAILURES && now - this.failingSince >= FRAME_PATH_FAILING_MS;
  }
}

/** Tracks how long the pool has had no ready worker. */
export class PoolHealth {
  private downSince: number | undefined;

  update(readyWorkers: number, now: number): boolean {
    if (readyWorkers > 0) {
      this.downSince = undefined;
      return false;
    }
    this.downSince ??= now;
    return now - this.downSince >= POOL_DOWN_MS;
  }
}

export interface CameraHealthInput {
  lane: string;
  online: boolean;
  /** The frame path after this camera has failed for a while (FramePathHealth.failing). */
  framePathFailing: boolean;
  /** Ingest cannot run this camera's ffmpeg (spawn error, restart budget exceeded). */
  ingestError: boolean;
  /** Frames arrive but show nothing: frozen or blank (ingest/picture-check.ts). */
  pictureLost?: boolean;
}

export interface LaneHealth {
  DECODE_DOWN: boolean;
  INGEST_ERROR: boolean;
  CAMERAS_BLIND: boolean;
}

export function laneHealth(lanes: readonly string[], cameras: readonly CameraHealthInput[], poolDown: boolean): Map<string, LaneHealth> {
  const out = new Map<string, LaneHealth>();
  for (const lane of lanes) {
    const cams = cameras.filter((c) => c.lane === lane);
    const online = cams.filter((c) => c.online);
    out.set(lane, {
      // Blind although frames arrive: nothing decodes them, or every camera's path after ingest fails.
      DECODE_DOWN: poolDown || (online.length > 0 && online.every((c) => c.framePathFailing)),
      // No camera delivers and at least one cannot even run: a cause an operator can act on.
      INGEST_ERROR: cams.length > 0 && online.length === 0 && cams.some((c) => c.ingestError),
      // Frames arrive on every delivering camera, but none shows a picture a code could be read in.
      CAMERAS_BLIND: online.length > 0 && online.every((c) => c.pictureLost === true),
    });
  }
  return out;
}
