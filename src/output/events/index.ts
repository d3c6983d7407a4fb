export { createEventSpool, type EventSpool, type EventSpoolOptions, type SpoolStats, type FsyncPolicy } from "./spool.js";
export { toWireEvent, type WireEvent } from "./wire.js";
export { markerKey, hashTag } from "./forward.js";
export { createRedisClient } from "./redis-client.js";
