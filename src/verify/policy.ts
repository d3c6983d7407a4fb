/**
 * Lane policy: rules are json-logic expressions (data in the lane config, no home-made language).
 * Each rule sees only PII-free data; a rule that throws counts as a rejection (fail safe).
 */
import jsonLogic from "json-logic-js";
import type { CredentialFormat } from "../core/types.js";

export interface PolicyRule {
  id: string;
  formats?: CredentialFormat[];
  logic: unknown;
}

export interface PolicyData {
  format: CredentialFormat;
  issuer: string;
  kid: string;
  /** Epoch seconds, so rules can compute ages: {"-": [{"var": "now"}, {"var": "claims.declaredAt"}]}. */
  now: number;
  validFrom?: number;
  validUntil?: number;
  claims: Record<string, unknown>;
  context: { lane?: string; area?: string };
}

/** Returns the id of the first rule that rejects, or undefined when all accept. */
export function firstRejectingRule(rules: readonly PolicyRule[], data: PolicyData): string | undefined {
  for (const r of rules) {
    if (r.formats && !r.formats.includes(data.format)) continue;
    let ok: unknown;
    try {
      ok = jsonLogic.apply(r.logic as jsonLogic.RulesLogic, data);
    } catch {
      return r.id;
    }
    if (!jsonLogic.truthy(ok)) return r.id;
  }
  return undefined;
}

/** For config checks: a rule whose logic uses an unknown operator is reported before the lane starts. */
export function ruleProblem(r: PolicyRule): string | undefined {
  try {
    jsonLogic.apply(r.logic as jsonLogic.RulesLogic, { claims: {}, context: {} });
    return undefined;
  } catch (e) {
    return `rule '${r.id}': ${(e as Error).message}`;
  }
}
