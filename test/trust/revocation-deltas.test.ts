import { createPublicKey, type JsonWebKey } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createRevocationDeltas, type RevocationDeltasDeps } from "../../src/verify/trust/revocation-deltas.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { RevocationSet } from "../../src/verify/trust/revocations.js";
import { signRevocationDelta, type RevocationSigner } from "../../src/verify/trust/signed-delta.js";
import type { SharedCache } from "../../src/verify/trust/shared-cache.js";
import { captureLogs, makeKeyPair, tempDir } from "./helpers.js";

/** The signed revocation deltas, split out of store.ts: the stream, the disk copy, overlapping pulls. */
const tmp = tempDir("deltas");
afterAll(() => tmp.cleanup());

type Read = Awaited<ReturnType<SharedCache["readRevocations"]>>;

/** A stream whose reads the test answers, in any order. */
function fakeStream() {
  const reads: Array<{ afterId: string; answer: (r: Read) => void }> = [];
  const shared: SharedCache = {
    getList: async () => undefined,
    putList: async () => true,
    touchList: async () => true,
    publishRevocations: async () => true,
    readRevocations: (afterId) => new Promise<Read>((answer) => reads.push({ afterId, answer })),
  };
  return { shared, reads };
}

const signerOf = async (kid: string) => {
  const k = await makeKeyPair(kid);
  return { priv: k.priv, signer: { kid, key: createPublicKey({ key: k.pub as JsonWebKey, format: "jwk" }) } as RevocationSigner };
};
const revoked = (o: RevocationSet, id: string) => o.isRevoked({ format: "pass", id });
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
};

function deps(over: Partial<RevocationDeltasDeps> & Pick<RevocationDeltasDeps, "signers">, dir: string): RevocationDeltasDeps {
  return { stateDir: dir, clock: new FakeClock(), log: captureLogs().logger, signedRevocations: () => RevocationSet.empty, changed: () => undefined, ...over };
}

describe("revocation deltas", () => {
  it("a pull that overlaps a signer change does not skip the re-read from the start the new signers need", async () => {
    const a = await signerOf("rev-a");
    const b = await signerOf("rev-b");
    const { shared, reads } = fakeStream();
    let signers: RevocationSigner[] = [a.signer];
    const d = createRevocationDeltas(deps({ shared, signers: () => signers }, `${tmp.dir}/overlap`));
    const byB = await signRevocationDelta({ add: [credentialIdHashHex("BY-B")] }, b.priv);

    // 1. Under signer a only, the stream's entry by b is refused; the position moves past it.
    const first = d.pull();
    await until(() => reads.length === 1);
    reads[0]!.answer({ lastId: "1-0", entries: [{ id: "1-0", data: byB }], reset: false });
    await first;
    expect(revoked(d.overlay(), "BY-B")).toBe(false);

    // 2. A poll reads on from 1-0 while the list update names b; a publish then sees the new signers.
    const poll = d.pull();
    await until(() => reads.length === 2);
    expect(reads[1]!.afterId).toBe("1-0");
    signers = [a.signer, b.signer];
    await d.publish(await signRevocationDelta({ add: [credentialIdHashHex("LOCAL")] }, a.priv), () => undefined);
    // 3. The poll's answer (read under the old signers) arrives last: it must not set the position.
    reads[1]!.answer({ lastId: "1-0", entries: [], reset: false });
    await poll;

    // 4. The next pull reads from the start again, and b's entry now applies.
    const next = d.pull();
    await until(() => reads.length === 3);
    expect(reads[2]!.afterId).toBe("0");
    reads[2]!.answer({ lastId: "2-0", entries: [{ id: "1-0", data: byB }], reset: false });
    await next;
    expect(["BY-B", "LOCAL"].map((id) => revoked(d.overlay(), id))).toEqual([true, true]);
  });

  it("keeps accepted deltas on disk for the next start, verified again there; nothing is admitted before the signers are known", async () => {
    const a = await signerOf("rev-a");
    const dir = `${tmp.dir}/disk`;
    const first = createRevocationDeltas(deps({ signers: () => [a.signer] }, dir));
    let applied = 0;
    expect(await first.publish(await signRevocationDelta({ add: [credentialIdHashHex("KEPT")] }, a.priv), () => applied++)).toEqual({ shared: false });
    expect(applied).toBe(1);
    await first.settled();

    const known: { signers?: RevocationSigner[] } = {};
    const next = createRevocationDeltas(deps({ signers: () => known.signers }, dir));
    await next.loadDisk();
    expect(await next.pull()).toBe(false);
    expect(revoked(next.overlay(), "KEPT")).toBe(false);
    known.signers = [a.signer];
    expect(await next.pull()).toBe(true);
    expect(revoked(next.overlay(), "KEPT")).toBe(true);
    expect(next.stats()).toMatchObject({ applied: 1, refused: 0, copyRefused: 0 });
  });
});
