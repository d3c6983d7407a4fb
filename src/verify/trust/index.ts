/** Public API of the trust store (docs/trust.md). Verifiers depend only on types.ts (TrustView). */
export type { TrustKey, TrustView, TrustStatus, RevocationQuery } from "./types.js";
export type { TrustConfig } from "./options.js";
export { createTrustStore, MAX_TIMER_MS, type TrustStore, type TrustStoreOptions, type TrustEvent, type TrustStoreStats } from "./store.js";
export { signRevocationDelta, verifyRevocationDelta, DeltaRefused, REVOCATION_DELTA_TYP, type RevocationSigner, type VerifiedDelta } from "./signed-delta.js";
export { loadTrustSource, loadTrustSources, type LoadSourceOptions } from "./load-source.js";
export { signTrustList, verifyTrustList, TrustListError, TRUST_LIST_TYP } from "./signed-list.js";
export type { TrustListPayload } from "./list-schema.js";
export { credentialIdHash, credentialIdHashHex, RevocationIndex, ID_HASH_BYTES } from "./revocation-index.js";
export { RevocationSet, type RevocationDelta } from "./revocations.js";
export { dccKid, shcKid, parseRootKey } from "./keys.js";
export { createRedisCache, type SharedCache } from "./shared-cache.js";
