/** Messages between the pool (main thread) and decode workers. Plain structured-clone data. */
import type { DecodedCode } from "../core/types.js";
import type { DecodePassName } from "./options.js";
import type { Rect } from "./preprocess.js";
import type { Quad } from "./luma-read.js";
import type { YieldTo } from "./early-stop.js";
import type { ModuleEvidence } from "./votes.js";

export interface WorkerInit {
  wasmBinary: Uint8Array;
  /** The pool's waiting counts (early-stop.ts WaitingBoard), shared by every worker. */
  waiting: SharedArrayBuffer;
  /** Decode the warm-up frames this many rounds with these passes before reporting ready (warm-up.ts). */
  warmUp?: { passes: readonly DecodePassName[]; rounds: number };
}

export interface DecodeJob {
  type: "decode";
  id: number;
  width: number;
  height: number;
  stride: number;
  data: Uint8Array;
  passes: readonly DecodePassName[];
  budgetMs: number;
  hint?: Rect;
  /** Crop hints from the cross-frame symbol tracker (track.ts). */
  tracked?: Rect[];
  /** Module evidence of symbols regrid could not read in the camera's recent frames (votes.ts). */
  evidence?: ModuleEvidence[];
  /** What this frame gives way to between passes (early-stop.ts); absent = never stops early. */
  yieldTo?: YieldTo;
  /** The camera's slot on the waiting board (a first look gives way to other cameras' only). */
  cameraSlot?: number;
  /** Presence upkeep: read the crop around `hint` first, the cascade only if it read nothing (watch-read.ts). */
  cropFirst?: boolean;
}

export type WorkerMessage =
  | { type: "ready" }
  | { type: "init-failed"; code: string; message: string }
  | { type: "result"; id: number; codes: DecodedCode[]; passes: DecodePassName[]; foundBy?: DecodePassName; decodeMs: number; /** Worker-thread CPU time for the frame. */ cpuMs?: number; /** Located but undecoded symbols, for the tracker. */ candidates?: Quad[]; /** Escalation stopped because a more urgent frame waited. */ stoppedEarly?: boolean; /** regrid's module evidence to carry to the camera's next frame. */ evidence?: ModuleEvidence[]; /** The frame buffer, transferred back for reuse. */ data?: Uint8Array };
