export { Lane, type LaneOptions, type VerifyFn } from "./lane.js";
export { LaneStateMachine, LaneProblems, type LaneProblem } from "./state.js";
export { PresenceTracker, type Presentation } from "./presence.js";
export { ChunkGatherer, isShcChunk, type ChunkAssemblerPort } from "./chunks.js";
export { LocalReplayGuard, type ReplayGuard, type ReplayClaim } from "./replay-guard.js";
export { RedisReplayGuard, type RedisLike } from "./replay-redis.js";
export { buildVerdictEvent, asReplay } from "./event.js";
export { FileSeqStore, MemorySeqStore, SeqStoreError, RECOVERY_GAP, type SeqStore, type FileSeqStoreOptions } from "./seq-store.js";
export { recentQuantiles, type LaneTelemetry } from "./telemetry.js";
