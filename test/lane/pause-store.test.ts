import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FilePauseStore } from "../../src/lane/pause-store.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), "pause-"));
  dirs.push(d);
  return d;
}

describe("FilePauseStore", () => {
  it("saves and loads the paused lanes (sorted, once each)", () => {
    const dir = stateDir();
    new FilePauseStore(dir).save(["L2", "L1", "L2"]);
    expect(new FilePauseStore(dir).load()).toEqual({ paused: ["L1", "L2"] });
    expect(readdirSync(join(dir, "lanes"))).toEqual(["paused.json"]);
  });

  it("a save that fails (the tmp file is a device: fsync EINVAL) throws, keeps the old list and leaves no temp file", () => {
    const dir = stateDir();
    const store = new FilePauseStore(dir);
    store.save(["L1"]);
    const tmp = join(dir, "lanes", "paused.json.tmp");
    symlinkSync("/dev/null", tmp);
    expect(() => store.save([])).toThrow(/EINVAL/);
    // Before: the temp file stayed behind (it goes through the shared atomic-file helper now,
    // which also fsyncs the directory after the rename).
    expect(() => lstatSync(tmp)).toThrow();
    expect(readFileSync(join(dir, "lanes", "paused.json"), "utf8")).toBe('{"paused":["L1"]}\n');
    expect(store.load()).toEqual({ paused: ["L1"] });
  });
});
