/**
 * Audit (disk) finding 5: a trust source's disk copy with a 0-byte or missing meta file, or a
 * directory where the body should be, was skipped without a word, and the failed download then
 * logged "last good copy kept" although nothing was kept. Now the damaged copy is named (its path
 * under stateDir/trust, never the URL) and the refresh failure says whether a copy is held.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createTrustStore, type TrustStore } from "../../src/verify/trust/store.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { captureLogs, ListServer, tempDir, trustConfig } from "./helpers.js";

let server: ListServer;
let tmp: ReturnType<typeof tempDir>;
let stores: TrustStore[];

beforeEach(async () => {
  server = new ListServer();
  await server.start();
  tmp = tempDir("disk-damage");
  stores = [];
});

afterEach(async () => {
  for (const s of stores) await s.stop();
  await server.stop();
  tmp.cleanup();
});

async function newStore(url: string) {
  const logs = captureLogs();
  const store = await createTrustStore({
    config: trustConfig({ lists: [], revocations: [{ source: url, allowInsecureHttp: true }], maxAgeS: 6 * 3600, refreshIntervalS: 3600 }),
    stateDir: tmp.dir,
    clock: new FakeClock(Date.now()),
    logger: logs.logger,
    random: () => 0.5,
  });
  stores.push(store);
  return { store, logs };
}

/** Saves a deny list's disk copy through a first store, then takes the server away; returns the copy's files. */
async function savedCopyOffline(): Promise<{ url: string; body: string; meta: string }> {
  server.body = credentialIdHashHex("DENY-1") + "\n";
  const url = `${server.url}?token=s3cret`;
  const first = await newStore(url);
  await first.store.start();
  await first.store.stop();
  await server.stop();
  const dir = join(tmp.dir, "trust");
  const find = (suffix: string) => join(dir, readdirSync(dir).find((f) => f.startsWith("revocations-") && f.endsWith(suffix))!);
  return { url, body: find(".body"), meta: find(".meta.json") };
}

describe("a damaged trust disk copy is named, and no copy is claimed kept", () => {
  it.each([
    ["a 0-byte meta file", (c: { body: string; meta: string }) => writeFileSync(c.meta, ""), ".meta.json", "is empty"],
    ["a missing meta file", (c: { body: string; meta: string }) => rmSync(c.meta), ".meta.json", "is missing"],
    [
      "a directory where the body was",
      (c: { body: string; meta: string }) => {
        rmSync(c.body);
        mkdirSync(c.body);
      },
      ".body",
      "is not a file",
    ],
  ])("%s: a warning names the copy's path (no URL) and the failed download does not claim a copy was kept", async (_what, damage, suffix, problem) => {
    const copy = await savedCopyOffline();
    damage(copy);
    const { store, logs } = await newStore(copy.url);
    await store.start();
    const records = logs.records();
    const rejected = records.find((r) => r.msg === "disk copy of trust source damaged; not loaded");
    // Before: nothing was logged about the copy at all.
    expect(rejected).toMatchObject({ level: "warn", code: "GW_TRUST_FETCH", reason: "disk-unusable" });
    const path = suffix === ".body" ? copy.body : copy.meta;
    expect(String(rejected!.err)).toContain(path);
    expect(String(rejected!.err)).toContain(problem);
    const failed = records.find((r) => typeof r.msg === "string" && r.msg.startsWith("trust source refresh failed"));
    expect(failed).toMatchObject({ copyKept: false });
    // Before: "trust source refresh failed; last good copy kept" with nothing kept.
    expect(String(failed!.msg)).not.toContain("last good copy kept");
    expect(store.view().isRevoked({ format: "pass", id: "DENY-1" })).toBe(false);
    expect(store.status().stale).toBe(true);
    // Credentials in the URL never reach the log.
    expect(JSON.stringify(records)).not.toContain("s3cret");
  });

  it("an intact copy: loaded, and the failed download says the copy is kept", async () => {
    const copy = await savedCopyOffline();
    const { store, logs } = await newStore(copy.url);
    await store.start();
    expect(store.view().isRevoked({ format: "pass", id: "DENY-1" })).toBe(true);
    const failed = logs.records().find((r) => typeof r.msg === "string" && r.msg.startsWith("trust source refresh failed"));
    expect(failed).toMatchObject({ msg: "trust source refresh failed; last good copy kept", copyKept: true });
    expect(logs.records().some((r) => String(r.msg).startsWith("disk copy of trust source"))).toBe(false);
  });

  it("no copy at all (a first start offline): nothing about a damaged copy, and no copy claimed", async () => {
    await server.stop();
    const { store, logs } = await newStore(`${server.url}?token=s3cret`);
    await store.start();
    expect(logs.records().some((r) => String(r.msg).startsWith("disk copy of trust source"))).toBe(false);
    expect(logs.records().find((r) => typeof r.msg === "string" && r.msg.startsWith("trust source refresh failed"))).toMatchObject({ copyKept: false });
  });
});
