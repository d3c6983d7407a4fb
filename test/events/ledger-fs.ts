/** A ledger fs seam for the head tests: the real fs, its calls recorded, any one made to fail. */
import * as realFs from "node:fs";
import { basename } from "node:path";
import type { LedgerFs } from "../../src/output/ledger/ledger.js";

/** The real fs with file calls recorded (`fsync NAME`...) and `fail(call, name)` to make one throw. */
export function recordingFs(fail: (call: string, name: string) => Error | undefined = () => undefined) {
  const calls: string[] = [];
  const names = new Map<number, string>();
  const nameOf = (fd: number) => names.get(fd) ?? "?";
  const check = (call: string, name: string) => {
    calls.push(`${call} ${name}`);
    const e = fail(call, name);
    if (e) throw e;
  };
  const fs: LedgerFs = {
    ...realFs,
    openSync: ((p: string, flags: string) => {
      check("open", basename(p));
      const fd = realFs.openSync(p, flags);
      names.set(fd, basename(p));
      return fd;
    }) as LedgerFs["openSync"],
    writeSync: ((fd: number, ...rest: [Buffer, number?, number?]) => {
      check("write", nameOf(fd));
      return realFs.writeSync(fd, ...rest);
    }) as LedgerFs["writeSync"],
    fsyncSync: (fd) => {
      check("fsync", nameOf(fd));
      realFs.fsyncSync(fd);
    },
    closeSync: (fd) => {
      calls.push(`close ${nameOf(fd)}`);
      realFs.closeSync(fd);
    },
    renameSync: (a, b) => {
      check("rename", `${basename(String(a))}>${basename(String(b))}`);
      realFs.renameSync(a, b);
    },
  };
  return { fs, calls };
}

