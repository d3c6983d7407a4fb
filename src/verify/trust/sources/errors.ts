import type { GatewayErrorCode } from "../../../core/errors.js";

/** A refresh failure: the gateway code for logs, a short machine reason, a message without content or secrets. */
export class SourceError extends Error {
  constructor(
    readonly code: Extract<GatewayErrorCode, "GW_TRUST_FETCH" | "GW_TRUST_SIGNATURE">,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "SourceError";
  }
}
