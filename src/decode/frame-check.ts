import type { LumaFrame } from "../core/types.js";

/** Returns why a frame cannot be decoded, or undefined when its geometry fits its buffer. */
export function validateFrame(f: LumaFrame): string | undefined {
  const { width, height, stride, data } = f;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) return `bad dimensions ${width}x${height}`;
  if (!Number.isInteger(stride) || stride < width) return `stride ${stride} is smaller than width ${width}`;
  if (!(data instanceof Uint8Array)) return "frame data is not a Uint8Array";
  const need = stride * (height - 1) + width;
  if (data.byteLength < need) return `buffer holds ${data.byteLength} bytes, ${width}x${height} at stride ${stride} needs ${need}`;
  // zxing's pixmap API takes int sizes; far beyond any camera and guards the heap.
  if (width * height > 64e6) return `frame of ${width}x${height} is too large`;
  return undefined;
}
