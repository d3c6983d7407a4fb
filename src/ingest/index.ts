/** Camera ingest: one supervised ffmpeg per camera, delivering 8-bit luminance frames. */
export { CameraSupervisor, type SupervisorDeps } from "./supervisor.js";
export type { CameraConfig, CameraState, CameraStats, SpawnedProcess, Spawner, ByteStream } from "./types.js";
export { CAMERA_UP_STATES } from "./types.js";
export { PairedCamera, subStreamCamera, type PairedDeps } from "./paired.js";
export { nodeSpawner } from "./spawner.js";
export { ffmpegArgs, ffmpegInvocation, frameLayout, hwaccelArgs, presetInputArgs } from "./ffmpeg-args.js";
export { inputUrl, displayUrl } from "./camera-url.js";
export { backoffDelay, type BackoffPolicy } from "./backoff.js";
export { BurstGuard } from "./burst-guard.js";
export { FrameSlicer } from "./frame-slicer.js";
export { FrameFiller } from "./frame-filler.js";
export { chooseTransport, defaultTransport, openTransport, pipeTransport, type FrameSink, type FrameTransport, type TransportKind } from "./transport.js";
export { socketTransport } from "./socket-transport.js";
export { isCorruptWarning } from "./stderr-log.js";
export { probeTarget, tcpProbe, type HostLookup, type HostProbe, type ProbeTarget, type TcpProbeOptions } from "./host-probe.js";
