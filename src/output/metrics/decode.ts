import type { SeriesKit } from "./series.js";
import { one } from "./series.js";

/** The decode pool: worker capacity (DECODE_DOWN when none is ready), queue, restarts, per-camera results. */
export function registerDecodeSeries({ series, read, removed }: SeriesKit): void {
  const pool = () => read("decodePool");
  // The pool counts per camera since start, a removed camera included: its series end with it.
  const perCamera = () => Object.entries(pool()?.cameras ?? {}).filter(([camera]) => !removed.cameras.has(camera));
  series("decodePool", "gauge", "decode_workers", "Configured decode worker threads.", [], () => one(pool()?.workers));
  series("decodePool", "gauge", "decode_workers_live", "Decode workers started and ready.", [], () => one(pool()?.live));
  series("decodePool", "gauge", "decode_workers_ready", "Decode workers able to take a frame now (0 for long = every lane is blind: DECODE_DOWN).", [], () => one(pool()?.ready ?? pool()?.live));
  series("decodePool", "gauge", "decode_workers_busy", "Decode workers decoding a frame now.", [], () => one(pool()?.busy));
  series("decodePool", "gauge", "decode_queue", "Frames waiting for a decode worker.", [], () => one(pool()?.queued));
  series("decodePool", "counter", "decode_worker_restarts_total", "Decode workers replaced after a crash or a missed deadline.", [], () => one(pool()?.restarts));
  series("decodePool", "counter", "decode_deadline_timeouts_total", "Frames that passed the decode deadline (the worker was replaced).", [], () => one(pool()?.timeouts));
  series("decodePool", "counter", "decodes_total", "Frames the pool finished, by camera and result: ok = at least one code read, failed = the decode ended in an error (deadline, worker crash); frames with no code found count in neither.", ["camera", "result"], () =>
    perCamera().flatMap(([camera, k]) => [
      { labels: { camera, result: "ok" }, value: k.decoded },
      { labels: { camera, result: "failed" }, value: k.failed },
    ]),
  );
  series("decodePool", "counter", "decode_early_stops_total", "Frames whose decode cascade stopped escalating because a more urgent frame waited for a worker.", ["camera"], () =>
    perCamera().map(([camera, k]) => ({ labels: { camera }, value: k.stoppedEarly })),
  );
}
