export { createLedger, LedgerDamagedError, type Ledger, type LedgerOptions, type LedgerStats, type LedgerFs } from "./ledger.js";
export { verifyLedgerFiles, type LedgerVerifyResult, type LedgerVerifyOptions } from "./verify.js";
export { GENESIS, HEAD_FILE, LEDGER_NAME, ledgerFileName, type LedgerEntry, type LedgerHead } from "./chain.js";
export { createHeadAnchor, loadHeadSigner, ledgerHeadKey, ledgerHeadTopic, redisHeadSink, mqttHeadSink, verifyAnchoredHead, parseAnchoredHead, type AnchoredHead, type HeadAnchor, type HeadAnchorStats, type HeadSinkStats, type HeadSink } from "./anchor.js";
export { LedgerLockedError, LOCK_FILE } from "./lock.js";
