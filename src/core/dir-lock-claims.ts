import { createHash } from "node:crypto";
import type * as nodeFs from "node:fs";

/**
 * The claims of dir-lock.ts: nothing removes a lock file (or a claim) except under the claim on its
 * exact content, so that of all who would remove that content (takers that judged it stale, its
 * holder releasing it) one at a time checks and removes.
 *
 * Every claim is a file of its own holding its claimant's record, with the mtime of the moment it
 * was made: a claim is judged like a lock (by pid on this host, by mtime from another host), so one
 * that carried an older mtime would look stale while its claimant is mid-operation. A release once
 * claimed with a hard link of the lock itself, whose mtime is the last refresh: when refreshes had
 * been failing for 60 s, a taker on another host took that claim over, took the lock and linked its
 * own in, which the release (already past its check) then removed, leaving a holder without a lock.
 * And a claim is dropped only while it is still the one we made (same inode as our source file):
 * one that another process took over from us and remade is its claim, not ours to remove.
 */

/** The file operations a lock makes (node:fs; a test passes one that fails or races). */
export type LockFs = Pick<typeof nodeFs, "mkdirSync" | "writeFileSync" | "linkSync" | "unlinkSync" | "readFileSync" | "statSync" | "utimesSync">;

/** The claim on the content `text` at `path`. The name is on-disk protocol: every version that takes locks over must share it. */
export function takeoverClaim(path: string, text: string): string {
  return `${path}.takeover-${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
}

/** What is at `path` now (undefined: nothing): its text, and the key a claim is made on (the text; its inode when unreadable). */
export function snapshot(fs: LockFs, path: string): { key: string; text?: string } | undefined {
  try {
    const text = fs.readFileSync(path, "utf8");
    return { key: text, text };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    const st = fs.statSync(path, { throwIfNoEntry: false });
    return st && { key: `unreadable file, inode ${st.dev}:${st.ino}` };
  }
}

/**
 * Removes `path` if it still holds `key` (judged stale), holding the claim on that content, linked
 * from `src` (a file of our own record, written just now, which stays until we return). Returns
 * "removed", "changed" when the path holds something else by then (another process took it over:
 * read it again), or the record of a live process that is taking the same content over (a lost
 * race: `live` judges a claim found there). A claim left by a process that died mid-takeover is stale like a lock, and taken over the
 * same way, one level down.
 */
export function removeIfStill<R extends { pid: number }>(fs: LockFs, path: string, key: string, src: string, live: (path: string, text: string | undefined) => R | undefined, depth = 0): R | "removed" | "changed" {
  const claim = takeoverClaim(path, key);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.linkSync(src, claim);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 3 || depth >= 3) throw e;
    }
    const seen = snapshot(fs, claim);
    if (seen === undefined) continue;
    const claimant = live(claim, seen.text);
    if (claimant) return claimant;
    const down = removeIfStill(fs, claim, seen.key, src, live, depth + 1);
    if (typeof down === "object") return down;
  }
  try {
    if (snapshot(fs, path)?.key !== key) return "changed";
    return unlinkIfThere(fs, path) ? "removed" : "changed";
  } finally {
    dropClaim(fs, claim, src);
  }
}

/**
 * Removes our own lock (`text`) from `path`, under the claim on our content: a process taking our
 * lock over (it judged it stale) needs the same claim, so between our check and our removal nobody
 * replaces it, and our claim, written now from our record, is live to it (the lock's mtime may be
 * old: refreshes that failed are why it judged the lock stale). A claim already there means someone
 * is taking the lock over right now: it is then theirs to remove, and left alone. `tmp` is a name
 * of our own for the claim's source. Throws when the claim cannot be written (a full disk): the
 * lock then stays, stale once this process is gone, rather than be removed unclaimed.
 */
export function releaseOwn(fs: LockFs, path: string, text: string, tmp: string): void {
  // Not ours (taken over) or gone: nothing to claim.
  if (snapshot(fs, path)?.text !== text) return;
  const claim = takeoverClaim(path, text);
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644 });
    try {
      fs.linkSync(tmp, claim);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EEXIST") return;
      throw e;
    }
    try {
      // Only our own: a lock another process took over (ours looked stale to it) stays.
      if (snapshot(fs, path)?.text === text) unlinkIfThere(fs, path);
    } finally {
      dropClaim(fs, claim, tmp);
    }
  } finally {
    quietUnlink(fs, tmp);
  }
}

/** Removes `claim` only while it is the one we linked from `src` (the same inode; `src` is still there, so its inode is not reused). */
function dropClaim(fs: LockFs, claim: string, src: string): void {
  try {
    const ours = fs.statSync(src, { throwIfNoEntry: false });
    const there = fs.statSync(claim, { throwIfNoEntry: false });
    if (ours && there && ours.ino === there.ino && ours.dev === there.dev) fs.unlinkSync(claim);
  } catch {
    // left behind, inert: it names a process that is gone once we are
  }
}

/** For temp files in a `finally`: an error there must not hide the one being thrown. */
export function quietUnlink(fs: LockFs, path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // already gone, or left behind
  }
}

/** False when `path` was not there. */
function unlinkIfThere(fs: LockFs, path: string): boolean {
  try {
    fs.unlinkSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    return false;
  }
}
