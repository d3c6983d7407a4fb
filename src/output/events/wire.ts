import type { VerdictEvent } from "../../core/types.js";

/**
 * The one serialisation of a verdict that leaves the gateway (spool, stream, MQTT, ledger).
 * It copies an allowlist of fields instead of the whole object, so a field added upstream by
 * mistake (a payload, a holder name) can never ride along; free-text-looking values in code
 * fields are replaced, because a reason or rule id is always a stable code.
 */
export type WireEvent = Pick<
  VerdictEvent,
  | "id" | "gatewayId" | "lane" | "cameraId" | "seq" | "at" | "verdict" | "reason" | "format" | "kid" | "issuer"
  | "validFrom" | "validUntil" | "credentialHash" | "ruleId" | "trustVersion" | "payloadHash" | "frameToVerdictMs" | "firstSeenToVerdictMs"
>;

const CODE = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_TEXT = 256;

function code(v: unknown): string {
  return typeof v === "string" && CODE.test(v) ? v : "INVALID_CODE";
}
function text(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  return v.length > MAX_TEXT ? v.slice(0, MAX_TEXT) : v;
}
function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
function hex(v: unknown): string | undefined {
  return typeof v === "string" && /^[0-9a-fA-F]{1,128}$/.test(v) ? v : undefined;
}

export function toWireEvent(ev: VerdictEvent): WireEvent {
  const verdict = ev.verdict === "PASS" || ev.verdict === "FLAG" ? ev.verdict : "ERROR";
  const format = ev.format === "pass" || ev.format === "dcc" || ev.format === "shc" ? ev.format : "unknown";
  const out: WireEvent = {
    id: text(ev.id) ?? "",
    gatewayId: text(ev.gatewayId) ?? "",
    lane: text(ev.lane) ?? "",
    cameraId: text(ev.cameraId) ?? "",
    seq: num(ev.seq) ?? 0,
    at: num(ev.at) ?? 0,
    verdict,
    reason: code(ev.reason),
    format,
    payloadHash: hex(ev.payloadHash) ?? "",
    frameToVerdictMs: num(ev.frameToVerdictMs) ?? 0,
    firstSeenToVerdictMs: num(ev.firstSeenToVerdictMs) ?? 0,
  };
  // Optional fields are set only when present so the JSON stays minimal and stable.
  const kid = text(ev.kid);
  if (kid !== undefined) out.kid = kid;
  const issuer = text(ev.issuer);
  if (issuer !== undefined) out.issuer = issuer;
  const validFrom = num(ev.validFrom);
  if (validFrom !== undefined) out.validFrom = validFrom;
  const validUntil = num(ev.validUntil);
  if (validUntil !== undefined) out.validUntil = validUntil;
  const credentialHash = hex(ev.credentialHash);
  if (credentialHash !== undefined) out.credentialHash = credentialHash;
  if (ev.ruleId !== undefined) out.ruleId = code(ev.ruleId);
  const trustVersion = text(ev.trustVersion);
  if (trustVersion !== undefined) out.trustVersion = trustVersion;
  return out;
}
