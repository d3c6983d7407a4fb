/**
 * Duplicate object keys in JSON text. JSON.parse keeps the last value, a first-wins verifier the
 * first: one signed credential must not read two ways, so a key twice is STRUCTURE_INVALID (as for
 * CBOR maps). A JSON.parse reviver cannot see it: it runs on the already-merged object, and even
 * the reviver's source context is only given for primitives. So this is a single pass over the text.
 *
 * Only called on text JSON.parse has accepted (so it is well-formed and within the size and depth
 * limits): the scan need not validate anything, only tell keys from values. Linear in the text:
 * each character is visited once (a run of backslashes at most twice), each key compared with at
 * most SMALL others of its object or hashed once into that object's Set.
 */
import { fail } from "../reasons.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Index just past the closing quote of the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    // Well-formed input always closes the string; -1 would mean a caller skipped JSON.parse.
    if (q < 0) return fail("STRUCTURE_INVALID", "JSON");
    let slashes = 0;
    for (let j = q - 1; text.charCodeAt(j) === BACKSLASH; j--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/** Keys an object holds before its own Set is worth building (a Set per object doubled the cost). */
const SMALL = 12;

/** Throws STRUCTURE_INVALID if any object in `text` (valid JSON) has the same key twice. */
export function assertNoDuplicateJsonKeys(text: string): void {
  // Keys of every open object, innermost last; per open container, where its keys start in `keys`
  // (-1 for an array) and, once it has more than SMALL keys, a Set of them (linear time overall).
  const keys: string[] = [];
  const starts: number[] = [];
  const sets: Array<Set<string> | undefined> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (expectKey) {
        const raw = text.slice(i + 1, end - 1);
        // Compared unescaped: "a" and "\u0061" are one key to every parser.
        const key = raw.includes("\\") ? (JSON.parse(text.slice(i, end)) as string) : raw;
        const top = starts.length - 1;
        const set = sets[top];
        if (set !== undefined) {
          if (set.has(key)) fail("STRUCTURE_INVALID", "duplicate JSON key");
          set.add(key);
        } else {
          const from = starts[top]!;
          for (let k = from; k < keys.length; k++) if (keys[k] === key) fail("STRUCTURE_INVALID", "duplicate JSON key");
          keys.push(key);
          if (keys.length - from > SMALL) sets[top] = new Set(keys.slice(from));
        }
        expectKey = false;
      }
      i = end - 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      starts.push(c === 0x7b ? keys.length : -1);
      sets.push(undefined);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      const from = starts.pop()!;
      sets.pop();
      if (from >= 0) keys.length = from;
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = starts[starts.length - 1]! >= 0;
    }
  }
}
