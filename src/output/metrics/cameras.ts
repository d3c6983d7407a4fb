import { CAMERA_UP_STATES, type CameraState } from "../../ingest/types.js";
import type { CameraStats } from "./types.js";
import type { SeriesKit } from "./series.js";

/** Every state is emitted (1 for the current one, 0 for the rest), so `== 0` alerts work. The record keeps the list complete. */
const CAMERA_STATES = Object.keys({ starting: 1, online: 1, stalled: 1, backoff: 1, failed: 1, stopped: 1, standby: 1, warming: 1 } satisfies Record<CameraState, 1>);

/** Per-camera series: supervisor state, frame counts, ingest diagnostics, the frame path after ingest. */
export function registerCameraSeries({ series, read, now }: SeriesKit): void {
  const cams = () => read("cameras") ?? [];
  const camL = (cam: CameraStats) => ({ camera: cam.id, lane: cam.lane });
  series("cameras", "gauge", "camera_state", "1 for the camera's current supervisor state, 0 for every other state.", ["camera", "lane", "state"], () =>
    cams().flatMap((cam) => CAMERA_STATES.map((state) => ({ labels: { ...camL(cam), state }, value: cam.state === state ? 1 : 0 }))),
  );
  series("cameras", "gauge", "camera_up", "1 when the lane can read from the camera: state online, or standby (substream watching, main stream started on activity).", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: CAMERA_UP_STATES.has(cam.state) ? 1 : 0 })));
  series("cameras", "counter", "camera_frames_total", "Frames read from the camera since start (rate() gives fps).", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: cam.framesIn })));
  series("cameras", "counter", "camera_frames_dropped_total", "Frames dropped before decoding (burst after a gap, or superseded in the decode slot).", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: cam.framesDropped })));
  series("cameras", "counter", "camera_restarts_total", "Camera (ffmpeg) restarts since start.", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: cam.restarts })));
  series("cameras", "counter", "camera_stalls_total", "Camera stalls (no frame within the stall timeout) since start.", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: cam.stalls })));
  series("cameras", "gauge", "camera_last_frame_timestamp_seconds", "When the camera's last frame was read (absent before the first).", ["camera", "lane"], () =>
    cams().map((cam) => ({ labels: camL(cam), value: cam.lastFrameAgeMs === undefined ? undefined : (now() - cam.lastFrameAgeMs) / 1000 })),
  );
  // Per camera because DECODE_DOWN needs every camera of a lane to fail: one failing camera next to a good one is partial blindness.
  series("cameras", "gauge", "camera_frame_path_failing", "1 when the camera's frames arrive but the path after ingest has failed for 2 s or more (consumer throws, submit rejected, every decode errors).", ["camera", "lane"], () =>
    cams().map((cam) => ({ labels: camL(cam), value: cam.framePathFailing === undefined ? undefined : cam.framePathFailing ? 1 : 0 })),
  );
  // Per camera, like the frame path: the lane goes out of service (CAMERAS_BLIND) only when every delivering camera is.
  series("cameras", "gauge", "camera_picture_lost", "1 for the picture problem the camera shows (FROZEN: the same picture for cameras[].pictureCheckS; BLANK: no structure, a covered lens), 0 for the other.", ["camera", "lane", "problem"], () =>
    cams().flatMap((cam) => (["FROZEN", "BLANK"] as const).map((problem) => ({ labels: { ...camL(cam), problem }, value: cam.pictureProblem === problem ? 1 : 0 }))),
  );
  // Ingest diagnostics that used to reach only the log.
  series("cameras", "counter", "camera_ffmpeg_abandoned_total", "ffmpeg processes that did not exit after SIGKILL and were given up: each may still hold CPU and a camera session.", ["camera", "lane"], () =>
    cams().map((cam) => ({ labels: camL(cam), value: cam.ffmpegAbandoned })),
  );
  series("cameras", "counter", "camera_corrupt_frames_total", "ffmpeg stderr lines reporting corrupt or concealed frames or missed RTP packets (the frames are still decoded).", ["camera", "lane"], () =>
    cams().map((cam) => ({ labels: camL(cam), value: cam.corruptWarnings })),
  );
  series("cameras", "counter", "camera_burst_dropped_total", "Frames dropped by ingest because they arrived in a burst after a gap or at process start (part of camera_frames_dropped_total).", ["camera", "lane"], () =>
    cams().map((cam) => ({ labels: camL(cam), value: cam.burstDropped })),
  );
  series("cameras", "gauge", "camera_host_reachable", "0 while the camera's host does not answer its probe (an outage: no ffmpeg runs), 1 otherwise; absent for a source with no host (file).", ["camera", "lane"], () =>
    cams().map((cam) => ({ labels: camL(cam), value: cam.hostReachable === undefined ? undefined : cam.hostReachable ? 1 : 0 })),
  );
  series("cameras", "gauge", "camera_ingest_error", "1 while ingest cannot run the camera, labelled with why (GW_CAMERA_SPAWN: ffmpeg cannot be started; GW_CAMERA_FAILED: restart budget exceeded; GW_CAMERA_AUTH: the camera refuses our credentials); absent otherwise.", ["camera", "lane", "code"], () =>
    cams().flatMap((cam) => (cam.ingestError ? [{ labels: { ...camL(cam), code: cam.ingestError }, value: 1 }] : [])),
  );
  // A flag, not the rate: rate(camera_frames_total) is the fps. Every stream of every camera from its start, so a rule sees 0 before the first 1.
  series("cameras", "gauge", "camera_fps_above_config", "1 when the stream (main; sub for a camera with a substream) settled at more than 1.3 x its configured fps: watchdog, burst guard and decode sizing assume the configured rate; 0 otherwise.", ["camera", "lane", "stream"], () =>
    cams().flatMap((cam) =>
      Object.entries(cam.aboveConfiguredFps ?? {})
        .filter(([, on]) => on !== undefined)
        .map(([stream, on]) => ({ labels: { ...camL(cam), stream }, value: on ? 1 : 0 })),
    ),
  );
  series("consumerErrors", "counter", "frame_consumer_errors_total", "Frames lost after ingest: the consumer threw, submit or lane rejected, or the decode ended in an error.", ["camera"], () =>
    Object.entries(read("consumerErrors") ?? {}).map(([camera, n]) => ({ labels: { camera }, value: n })),
  );
}
