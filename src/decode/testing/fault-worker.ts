/**
 * A decode worker that hangs or throws on chosen jobs, for the pool's crash and deadline tests.
 * The daemon never starts it: a pool gets it only through `DecodePoolOptions.worker`
 * (`faultyWorker` builds that option). It wraps the real worker's message listener, so a faulted
 * job never reaches the strategy, a hang blocks the thread like a real one, and a throw escapes
 * from the listener like a real crash. Jobs are counted across the pool (a shared counter), so a
 * replacement worker goes on counting.
 */
import { parentPort, workerData } from "node:worker_threads";

const { faults, counter } = workerData as { faults: Record<number, "hang" | "throw">; counter: SharedArrayBuffer };
const jobs = new Int32Array(counter);

function inject(msg: { type?: string }): void {
  if (msg.type !== "decode") return;
  const n = Atomics.add(jobs, 0, 1) + 1;
  if (faults[n] === "hang") for (;;);
  if (faults[n] === "throw") throw new Error("injected decode fault");
}

const port = parentPort;
if (port) {
  const on = port.on.bind(port);
  port.on = ((event: string, listener: (msg: { type?: string }) => void) =>
    event === "message"
      ? on(event, (msg: { type?: string }) => {
          inject(msg);
          listener(msg);
        })
      : on(event, listener)) as typeof port.on;
}

await import("../worker.js");
