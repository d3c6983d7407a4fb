/** SMART Health Card numeric QR encoding: each JWS character c is written as two digits (c - 45). */
import { fail } from "../reasons.js";

export const SHC_PREFIX = "shc:/";
const CHUNK = /^shc:\/(\d{1,2})\/(\d{1,2})\/(\d*)$/;
const WHOLE = /^shc:\/(\d*)$/;

export type ShcParts = { kind: "whole"; digits: string } | { kind: "chunk"; index: number; total: number; digits: string };

export function splitShc(text: string): ShcParts {
  const c = CHUNK.exec(text);
  if (c) {
    const index = Number(c[1]);
    const total = Number(c[2]);
    if (total < 2 || index < 1 || index > total) fail("NUMERIC_INVALID", "chunk header");
    return { kind: "chunk", index, total, digits: c[3]! };
  }
  const w = WHOLE.exec(text);
  if (!w) fail("NUMERIC_INVALID", "not digits");
  return { kind: "whole", digits: w[1]! };
}

export function numericToJws(digits: string): string {
  if (digits.length === 0 || digits.length % 2 !== 0) fail("NUMERIC_INVALID", "odd digit count");
  let s = "";
  for (let i = 0; i < digits.length; i += 2) {
    const v = (digits.charCodeAt(i) - 48) * 10 + (digits.charCodeAt(i + 1) - 48);
    if (v > 77) fail("NUMERIC_INVALID", "value above 77");
    s += String.fromCharCode(v + 45);
  }
  return s;
}

export function jwsToNumeric(jws: string): string {
  let s = "";
  for (let i = 0; i < jws.length; i++) s += String(jws.charCodeAt(i) - 45).padStart(2, "0");
  return s;
}
