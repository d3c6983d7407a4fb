import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { createLogger, moduleLogger } from "./logger.js";
import { secretMasker } from "./mask.js";

function collect() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

describe("logger", () => {
  it("writes JSON with module/camera/lane bindings and masks credentials at the sink", () => {
    const { lines, stream } = collect();
    secretMasker.add("s3cret-token-value");
    const log = moduleLogger(createLogger({ level: "info", destination: stream }), "ingest", { camera: "cam1", lane: "l1" });
    log.warn({ url: "rtsp://admin:pw@10.1.1.1/live", err: new Error("auth s3cret-token-value failed") }, "camera failed");
    const rec = JSON.parse(lines[0]!);
    expect(rec).toMatchObject({ level: "warn", module: "ingest", camera: "cam1", lane: "l1", url: "rtsp://***:***@10.1.1.1/live", msg: "camera failed" });
    expect(lines[0]).not.toContain("s3cret-token-value");
    expect(lines[0]).not.toContain("admin:pw");
  });

  it("respects the level", () => {
    const { lines, stream } = collect();
    const log = createLogger({ level: "warn", destination: stream });
    log.info("hidden");
    log.error("shown");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["shown"]);
  });
});
