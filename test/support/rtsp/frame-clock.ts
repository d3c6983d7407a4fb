/**
 * A frame counter drawn into the bottom stripe of each clip frame, so a receiver can tell which
 * clip frame it got (camera-to-frame delay in benches; stale-frame detection in tests).
 * 16 bits of index plus 4 check bits, as large black/white cells that survive H.264.
 */
export const CLOCK_BITS = 16;
const CHECK_BITS = 4;
const CELLS = CLOCK_BITS + CHECK_BITS;

export function clockStripeHeight(height: number): number {
  return Math.max(16, Math.round(height / 18));
}

function check(index: number): number {
  return ((index ^ (index >> 4) ^ (index >> 8) ^ (index >> 12)) & 0xf) ^ 0x5;
}

function cellBits(index: number): number[] {
  const bits: number[] = [];
  for (let i = 0; i < CLOCK_BITS; i++) bits.push((index >> i) & 1);
  const c = check(index);
  for (let i = 0; i < CHECK_BITS; i++) bits.push((c >> i) & 1);
  return bits;
}

/** Draws the index into an 8-bit gray image (row-major, stride = width). */
export function drawFrameClock(gray: Uint8Array, width: number, height: number, index: number): void {
  const sh = clockStripeHeight(height);
  const cw = Math.floor(width / CELLS);
  const bits = cellBits(index);
  for (let y = height - sh; y < height; y++) {
    const row = y * width;
    for (let c = 0; c < CELLS; c++) gray.fill(bits[c] ? 235 : 16, row + c * cw, row + (c + 1) * cw);
  }
}

/** Reads the index back from a luminance frame; undefined when the check bits disagree. */
export function readFrameClock(frame: { data: Uint8Array; width: number; height: number; stride: number }): number | undefined {
  const { data, width, height, stride } = frame;
  const sh = clockStripeHeight(height);
  const cw = Math.floor(width / CELLS);
  const cy = height - Math.ceil(sh / 2);
  let index = 0;
  let c = 0;
  for (let i = 0; i < CELLS; i++) {
    const cx = i * cw + Math.floor(cw / 2);
    let sum = 0;
    let n = 0;
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
      sum += data[(cy + dy) * stride + cx + dx] ?? 0;
      n++;
    }
    const bit = sum / n > 128 ? 1 : 0;
    if (i < CLOCK_BITS) index |= bit << i;
    else c |= bit << (i - CLOCK_BITS);
  }
  return c === check(index) ? index : undefined;
}

/**
 * How long ago (ms) clip frame `index` was last sent by a looping feed, seen at `receivedAt`:
 * the camera-to-frame delay. In [0, frameCount/fps) by construction, so the clip must be
 * longer than any delay you want to tell apart.
 */
export function clipFrameAgeMs(a: { index: number; receivedAt: number; feedStartedAt: number; fps: number; frameCount: number }): number {
  const period = 1000 / a.fps;
  const sinceStart = a.receivedAt - a.feedStartedAt - a.index * period;
  const loopMs = a.frameCount * period;
  return ((sinceStart % loopMs) + loopMs) % loopMs;
}
