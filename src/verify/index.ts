/** Public API of the verify stage (see README.md). */
export { createVerifier, type LanePolicy, type VerifyContext, type VerifierOptions, type Verifier } from "./verifier.js";
export { ShcChunkAssembler, shcChunkProblem, type ChunkResult } from "./shc/chunks.js";
export { REASONS, type ReasonCode } from "./reasons.js";
export { LIMITS } from "./limits.js";
export { firstRejectingRule, ruleProblem, type PolicyRule, type PolicyData } from "./policy.js";
export { issuePass, claimsFromJson } from "./pass/issue-pass.js";
export { PASS_PREFIX, type PassClaims } from "./pass/claims.js";
export { dccKeyFromCertificate, dccKid, jwkThumbprint, parseCertificate, passKey, shcKeysFromJwks } from "./trust/keys.js";
