/**
 * The `worker` option of a DecodePool whose workers hang or throw on the pool's n-th job (counted
 * from 1 across all workers and their replacements): `faultyWorker({ 1: "hang" })`. For tests.
 */
import { compiledSibling } from "../../core/worker-url.js";

export function faultyWorker(faults: Record<number, "hang" | "throw">): { url: URL; data: Record<string, unknown> } {
  return { url: compiledSibling(import.meta.url, "./fault-worker.js"), data: { faults, counter: new SharedArrayBuffer(4) } };
}
