export { createLedger, type Ledger, type LedgerOptions } from "./ledger.js";
export { verifyLedgerFiles, type LedgerVerifyResult } from "./verify.js";
export { GENESIS, HEAD_FILE, LEDGER_NAME, ledgerFileName, type LedgerEntry, type LedgerHead } from "./chain.js";
