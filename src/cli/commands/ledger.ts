import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { JWK } from "jose";
import { Redis } from "ioredis";
import { parse, UsageError } from "../args.js";
import { LEDGER_NAME } from "../../output/ledger/chain.js";
import { verifyLedgerFiles, type LedgerVerifyOptions } from "../../output/ledger/verify.js";
import { ledgerHeadKey, parseAnchoredHead, verifyAnchoredHead, type AnchoredHead } from "../../output/ledger/anchor.js";
import { maskUrl } from "../../core/mask.js";

const USAGE = `usage: checkpoint-gateway ledger verify [--json] [--head FILE | --redis URL [--redis-key KEY]] [--from FILE] [--key PUBLIC_JWK] FILE...
  --head FILE     a ledger head saved outside the ledger dir (e.g. the retained MQTT topic PREFIX/GATEWAY/ledger/head)
  --redis URL     read the head the gateway published to Redis (key cpgw:ledger:head:GATEWAY, or --redis-key)
  --from FILE     a trusted head the first file continues from (older files archived elsewhere)
  --key FILE      the gateway's public JWK: the heads must carry a valid signature
  --allow-uncovered  accept entries written well after the head was published (a head sink that was down): reported, not refused
`;

async function readHead(text: string, from: string, key: JWK | undefined): Promise<AnchoredHead> {
  const h = parseAnchoredHead(text, from);
  if (key) {
    try {
      await verifyAnchoredHead(h, key);
    } catch (e) {
      throw new Error(`${from}: signature check failed: ${(e as Error).message}`, { cause: e });
    }
  }
  return h;
}

/** The gateway id written in the first entry (the Redis key is per gateway). */
function gatewayOf(file: string): string {
  const first = readFileSync(file, "utf8").split("\n", 1)[0] ?? "";
  const gw = (JSON.parse(first) as { gw?: unknown }).gw;
  if (typeof gw !== "string") throw new Error(`${file}: first entry has no gateway id`);
  return gw;
}

async function headFromRedis(url: string, key: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    const v = await redis.get(key);
    if (v === null) throw new Error(`redis ${maskUrl(url)}: no ledger head at ${key}`);
    return v;
  } finally {
    redis.disconnect();
  }
}

/**
 * `ledger verify FILE...`: exit 0 when the chain holds (and matches the anchored head, when one is
 * given), 1 naming the first broken entry or a head that cannot be trusted, 64 on usage.
 */
export default async function ledgerCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(args, {
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      head: { type: "string" },
      redis: { type: "string" },
      "redis-key": { type: "string" },
      from: { type: "string" },
      key: { type: "string" },
      "allow-uncovered": { type: "boolean" },
    });
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${USAGE}`);
      return 64;
    }
    throw e;
  }
  const [sub, ...files] = parsed.positionals;
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub !== "verify" || files.length === 0 || (v.head && v.redis)) {
    process.stderr.write(USAGE);
    return 64;
  }
  // Daily files named ledger-YYYY-MM-DD.jsonl are put in date order whatever order the shell gave.
  const ordered = files.every((f) => LEDGER_NAME.test(basename(f))) ? [...files].sort((a, b) => basename(a).localeCompare(basename(b))) : files;
  const opts: LedgerVerifyOptions = {};
  try {
    const key = v.key ? (JSON.parse(readFileSync(v.key, "utf8")) as JWK) : undefined;
    if (key && "d" in key) throw new Error(`${v.key}: this is a private key; give the public JWK`);
    if (v.head) opts.head = await readHead(readFileSync(v.head, "utf8"), v.head, key);
    if (v.redis) {
      const redisKey = v["redis-key"] ?? ledgerHeadKey("cpgw:", gatewayOf(ordered[ordered.length - 1]!));
      opts.head = await readHead(await headFromRedis(v.redis, redisKey), `redis ${redisKey}`, key);
    }
    if (v.from) opts.from = await readHead(readFileSync(v.from, "utf8"), v.from, key);
    // A head is about one gateway's chain: another gateway's genuine head says nothing about these files.
    const gw = opts.head ? gatewayOf(ordered[ordered.length - 1]!) : undefined;
    const headGw = (opts.head as { gw?: string } | undefined)?.gw;
    if (gw !== undefined && headGw !== undefined && headGw !== gw) throw new Error(`the anchored head is gateway ${headGw}'s, the files are gateway ${gw}'s`);
    if (v["allow-uncovered"]) opts.allowUncovered = true;
  } catch (e) {
    process.stderr.write(`GW_LEDGER_BROKEN ${(e as Error).message}\n`);
    return 1;
  }
  const r = verifyLedgerFiles(ordered, opts);
  if (v.json) process.stdout.write(JSON.stringify(r) + "\n");
  else if (r.ok) process.stdout.write(`ok: ${r.entries} entries (seq ${r.firstSeq}..${r.lastSeq}) in ${ordered.length} file(s), from ${r.startAnchor}${r.headChecked ? `, matches the anchored head at seq ${r.headSeq}${v.key ? " (signature valid)" : ""}; ${r.entriesAfterHead} entries after it${r.entriesAfterHead ? " (not covered by that head)" : ""}` : ""}${r.dirHead && !r.dirHead.checked ? `; ledger.head.json not checked (it names ${r.dirHead.file}, not given)` : ""}\n`);
  else process.stderr.write(`GW_LEDGER_BROKEN ${r.firstBroken!.file}:${r.firstBroken!.line}: ${r.firstBroken!.problem} (${r.entries} entries verified before it)\n`);
  return r.ok ? 0 : 1;
}
