import { createHash } from "node:crypto";
import type { WireEvent } from "../events/wire.js";

/** Pure hash-chain rules shared by the writer and `ledger verify`. */
export const GENESIS = "0".repeat(64);
export const LEDGER_NAME = /^ledger-(\d{4}-\d{2}-\d{2})\.jsonl$/;
export const HEAD_FILE = "ledger.head.json";

/** One line of the ledger, in the order it is written (the hash covers exactly this JSON). */
export interface LedgerBody {
  seq: number;
  time: string;
  gw: string;
  lane: string;
  id: string;
  verdict: string;
  reason: string;
  format: string;
  kid?: string;
  issuer?: string;
  trust?: string;
  rule?: string;
  cred?: string;
  prev: string;
}
export interface LedgerEntry extends LedgerBody {
  hash: string;
}

export interface LedgerHead {
  file: string;
  seq: number;
  hash: string;
}

export function ledgerFileName(epochMs: number): string {
  return `ledger-${new Date(epochMs).toISOString().slice(0, 10)}.jsonl`;
}

export function hashBody(bodyJson: string): string {
  return createHash("sha256").update(bodyJson).digest("hex");
}

/** Builds the body from the allowlisted wire event: no payload can reach the ledger. */
export function ledgerBody(ev: WireEvent, seq: number, prev: string, gatewayId: string): LedgerBody {
  const b: LedgerBody = {
    seq,
    time: new Date(ev.at).toISOString(),
    gw: gatewayId,
    lane: ev.lane,
    id: ev.id,
    verdict: ev.verdict,
    reason: ev.reason,
    format: ev.format,
    prev,
  };
  // Optional fields go before `prev` only when present; JSON.stringify keeps insertion order.
  const opt: Partial<LedgerBody> = {};
  if (ev.kid !== undefined) opt.kid = ev.kid;
  if (ev.issuer !== undefined) opt.issuer = ev.issuer;
  if (ev.trustVersion !== undefined) opt.trust = ev.trustVersion;
  if (ev.ruleId !== undefined) opt.rule = ev.ruleId;
  if (ev.credentialHash !== undefined) opt.cred = ev.credentialHash;
  const { prev: p, ...head } = b;
  return { ...head, ...opt, prev: p };
}

/** Serialises an entry; returns the line (with newline) and its hash. */
export function entryLine(body: LedgerBody): { line: string; hash: string } {
  const json = JSON.stringify(body);
  const hash = hashBody(json);
  return { line: `${json.slice(0, -1)},"hash":"${hash}"}\n`, hash };
}
