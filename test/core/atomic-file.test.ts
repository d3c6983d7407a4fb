import * as realFs from "node:fs";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { replacedDespite, writeFileAtomic, type AtomicFs } from "../../src/core/atomic-file.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cpgw-atomic-"));
  dirs.push(d);
  return d;
}

const enospc = (call: string) => Object.assign(new Error(`ENOSPC: no space left on device, ${call}`), { code: "ENOSPC", syscall: call });

/**
 * The real fs, with every call recorded as `call path-or-fd-name`, and `fail` to make one call throw.
 * Descriptors are named by the path they were opened on, so the order can be read as a story.
 */
function recordingFs(fail: Partial<Record<keyof AtomicFs, () => Error>> = {}) {
  const calls: string[] = [];
  const names = new Map<number, string>();
  const name = (fd: number) => names.get(fd) ?? String(fd);
  const fs: AtomicFs = {
    openSync: ((p: string, flags: string) => {
      calls.push(`open ${p.split("/").pop()!} ${flags}`);
      if (fail.openSync) throw fail.openSync();
      const fd = realFs.openSync(p, flags);
      names.set(fd, p.split("/").pop()!);
      return fd;
    }) as AtomicFs["openSync"],
    writeSync: ((fd: number, b: Buffer, off?: number, len?: number) => {
      calls.push(`write ${name(fd)}`);
      if (fail.writeSync) throw fail.writeSync();
      return realFs.writeSync(fd, b, off, len);
    }) as AtomicFs["writeSync"],
    fsyncSync: (fd) => {
      calls.push(`fsync ${name(fd)}`);
      if (fail.fsyncSync) throw fail.fsyncSync();
      realFs.fsyncSync(fd);
    },
    closeSync: (fd) => {
      calls.push(`close ${name(fd)}`);
      realFs.closeSync(fd);
      if (fail.closeSync) throw fail.closeSync();
    },
    renameSync: (a, b) => {
      calls.push(`rename ${String(a).split("/").pop()!} ${String(b).split("/").pop()!}`);
      if (fail.renameSync) throw fail.renameSync();
      realFs.renameSync(a, b);
    },
    unlinkSync: (p) => {
      calls.push(`unlink ${String(p).split("/").pop()!}`);
      realFs.unlinkSync(p);
    },
  };
  return { fs, calls };
}

describe("writeFileAtomic", () => {
  it("writes the temp file, fsyncs it, renames it over the file, then fsyncs the directory", () => {
    const dir = tmp();
    const file = join(dir, "state.json");
    writeFileSync(file, "old\n");
    const { fs, calls } = recordingFs();
    writeFileAtomic(file, "new\n", { fs });
    const d = dir.split("/").pop()!;
    expect(calls).toEqual([
      "open state.json.tmp w",
      "write state.json.tmp",
      "fsync state.json.tmp",
      "close state.json.tmp",
      "rename state.json.tmp state.json",
      `open ${d} r`,
      `fsync ${d}`,
      `close ${d}`,
    ]);
    expect(readFileSync(file, "utf8")).toBe("new\n");
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("fsync: false (a policy of never) renames without any fsync", () => {
    const dir = tmp();
    const { fs, calls } = recordingFs();
    writeFileAtomic(join(dir, "s"), "x", { fs, fsync: false });
    expect(calls.filter((c) => c.startsWith("fsync"))).toEqual([]);
    expect(readFileSync(join(dir, "s"), "utf8")).toBe("x");
  });

  it.each([
    ["write (ENOSPC)", { writeSync: () => enospc("write") }, "ENOSPC"],
    ["fsync (EIO)", { fsyncSync: () => Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO", syscall: "fsync" }) }, "EIO"],
    ["close (EIO)", { closeSync: () => Object.assign(new Error("EIO: i/o error, close"), { code: "EIO", syscall: "close" }) }, "EIO"],
    ["rename (EXDEV)", { renameSync: () => Object.assign(new Error("EXDEV"), { code: "EXDEV", syscall: "rename" }) }, "EXDEV"],
  ] as const)("a failing %s: the error is thrown, the old file stays, the temp file is removed", (_what, fail, code) => {
    const dir = tmp();
    const file = join(dir, "state.json");
    writeFileSync(file, "old\n");
    const { fs, calls } = recordingFs(fail);
    expect(() => writeFileAtomic(file, "new\n", { fs })).toThrow(expect.objectContaining({ code }));
    expect(readFileSync(file, "utf8")).toBe("old\n");
    // Before: every failed start under a restart loop left a 0-byte *.tmp behind.
    expect(readdirSync(dir)).toEqual(["state.json"]);
    expect(calls).toContain("unlink state.json.tmp");
    // The descriptor is closed once, never leaked.
    expect(calls.filter((c) => c === "close state.json.tmp")).toHaveLength(1);
  });

  it("no file before and the write fails: still nothing left behind", () => {
    const dir = tmp();
    const { fs } = recordingFs({ writeSync: () => enospc("write") });
    expect(() => writeFileAtomic(join(dir, "a.seq"), "1\n", { fs })).toThrow(/ENOSPC/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a failing directory fsync comes after the rename: thrown, marked as replaced, the new content is in place", () => {
    const dir = tmp();
    const file = join(dir, "s");
    writeFileSync(file, "old");
    let n = 0;
    // The second fsync is the directory's.
    const { fs } = recordingFs({});
    const failing: AtomicFs = {
      ...fs,
      fsyncSync: (fd) => {
        if (++n === 2) throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO", syscall: "fsync" });
        fs.fsyncSync(fd);
      },
    };
    let err: unknown;
    try {
      writeFileAtomic(file, "new", { fs: failing });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "EIO" });
    expect(replacedDespite(err)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe("new");
    expect(replacedDespite(new Error("other"))).toBe(false);
  });

  it("short writes are continued until the whole body is written; a streaming body is written in order", () => {
    const dir = tmp();
    const short: AtomicFs = {
      ...realFs,
      writeSync: ((fd: number, b: Buffer, off: number, len: number) => realFs.writeSync(fd, b, off, Math.min(len, 3))) as AtomicFs["writeSync"],
    };
    writeFileAtomic(join(dir, "a"), "0123456789", { fs: short });
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("0123456789");
    writeFileAtomic(
      join(dir, "b"),
      (write) => {
        write("head\n");
        write(Buffer.from("body\n"));
      },
      { fs: short },
    );
    expect(readFileSync(join(dir, "b"), "utf8")).toBe("head\nbody\n");
  });

  it("a write that makes no progress fails instead of looping", () => {
    const dir = tmp();
    const stuck: AtomicFs = { ...realFs, writeSync: (() => 0) as AtomicFs["writeSync"] };
    expect(() => writeFileAtomic(join(dir, "a"), "x", { fs: stuck })).toThrow(/no progress/);
    expect(existsSync(join(dir, "a.tmp"))).toBe(false);
  });

  it("a temp file left by a crash (kill -9 mid-write) is reused, not joined by another", () => {
    const dir = tmp();
    writeFileSync(join(dir, "s.tmp"), "torn");
    writeFileAtomic(join(dir, "s"), "whole");
    expect(readdirSync(dir)).toEqual(["s"]);
    expect(readFileSync(join(dir, "s"), "utf8")).toBe("whole");
  });
});
