/**
 * A real scene without its code: the code's bounding box (plus 15% each side) filled with the box's
 * mean gray. Used by the e2e photo clips (gaps between showings) and the prefilter bench (no-code
 * frames), so both benches paint the same way. `xs`/`ys` are the code's corners in image pixels.
 */
export function paintOverBox(img: Uint8Array, w: number, h: number, xs: readonly number[], ys: readonly number[]): void {
  const mx = (Math.max(...xs) - Math.min(...xs)) * 0.15, my = (Math.max(...ys) - Math.min(...ys)) * 0.15;
  const x0 = Math.max(0, Math.floor(Math.min(...xs) - mx)), x1 = Math.min(w, Math.ceil(Math.max(...xs) + mx));
  const y0 = Math.max(0, Math.floor(Math.min(...ys) - my)), y1 = Math.min(h, Math.ceil(Math.max(...ys) + my));
  let sum = 0, n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      sum += img[y * w + x]!;
      n++;
    }
  const mean = n ? Math.round(sum / n) : 128;
  for (let y = y0; y < y1; y++) img.fill(mean, y * w + x0, y * w + x1);
}
