/** Public API of the trust store (docs/trust.md). Verifiers depend only on types.ts (TrustView). */
export type { TrustKey, TrustView, TrustStatus, RevocationQuery } from "./types.js";
export type { TrustConfig } from "./config.js";
export { createTrustStore, type TrustStore, type TrustStoreOptions, type TrustEvent } from "./store.js";
export { loadTrustSource, loadTrustSources, type LoadSourceOptions } from "./load-source.js";
export { signTrustList, verifyTrustList, TrustListError, TRUST_LIST_TYP } from "./signed-list.js";
export type { TrustListPayload } from "./list-schema.js";
export { credentialIdHash, credentialIdHashHex, RevocationIndex, ID_HASH_BYTES } from "./revocation-index.js";
export { RevocationSet, type RevocationDelta } from "./revocations.js";
export { dccKid, shcKid, parseRootKey } from "./keys.js";
export { createRedisCache, type SharedCache } from "./shared-cache.js";
