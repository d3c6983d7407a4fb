/**
 * Shared RTSP test tooling (ingest integration tests, lane end-to-end tests, benches).
 * Stable API: see README.md in this folder before changing a signature.
 */
export { makeQrClip, clipFrameCount, type QrClipOptions, type ClipSegment } from "./clip.js";
export { startRtspServer, type RtspServer, type RtspServerOptions } from "./server.js";
export { readFrameClock, drawFrameClock, clipFrameAgeMs, CLOCK_BITS } from "./frame-clock.js";
export { childProcesses } from "./procs.js";
export { fixtureCacheDir, projectRoot } from "./paths.js";
