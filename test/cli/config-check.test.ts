import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/load.js";
import { preflight } from "../../src/config/preflight.js";
import { runCli } from "../support/cli.js";


const dir = mkdtempSync(join(tmpdir(), "cfgcli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes a config whose listeners use port 0, so the checks do not depend on what else runs here. */
function write(body: string): string {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, `gateway: { stateDir: ${JSON.stringify(join(dir, "state"))} }\nserver: { listen: { host: 127.0.0.1, port: 0 } }\n${body}`);
  return f;
}
const oneCamera = "lanes:\n  - id: l1\ncameras:\n  - id: c1\n    lane: l1\n    url: rtsp://127.0.0.1/y\n";

describe("checkpoint-gateway config check", () => {
  it("exits 2 and prints every problem for an invalid file, naming list items by id", () => {
    const f = join(dir, "bad.yaml");
    writeFileSync(f, "lanes:\n  - id: l1\n    speed: 3\ncameras:\n  - id: c1\n    lane: l9\n    url: rtsp://x/y\n");
    const r = runCli(["config", "check", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("lanes[l1].speed: unknown key (got '3')");
    expect(r.stderr).toContain("cameras[c1].lane: no lane with this id (got 'l9')");
  });

  it("exits 0 for a valid file with ${ENV} secrets", () => {
    const f = write(oneCamera + "    password: ${CAM_PW}\n");
    const r = runCli(["config", "check", f], { CAM_PW: "pw-from-env" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("ok (1 cameras, 1 lanes)");
  });

  it("refuses a camera source that no deployment has (the test suite's generated frames are no config option)", () => {
    const r = runCli(["config", "check", write("lanes: [{ id: l1 }]\ncameras: [{ id: c1, lane: l1, source: synthetic }]\n")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cameras[c1].source");
  });

  it("exits 2 for a trust URL with user:password@ (fetch refuses it on every refresh), without printing the password", () => {
    const trust = "trust:\n  lists: [{ source: 'https://tuser:TrustPw77@trust.example/list.jws', rootKey: root.pem }]\n  revocations: ['https://u:DenyPw55@deny.example/list.txt']\n";
    const r = runCli(["config", "check", write(oneCamera + trust)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("trust.lists[0].source: a URL with user:password@ cannot be fetched");
    expect(r.stderr).toContain("trust.revocations[0]: a URL with user:password@ cannot be fetched");
    expect(r.stderr).not.toMatch(/TrustPw77|DenyPw55/);
  });

  it("exits 2 for an empty file", () => {
    const f = join(dir, "empty.yaml");
    writeFileSync(f, "");
    const r = runCli(["config", "check", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("the file is empty");
  });

  it("exits 2 when the trust root key is missing, unreadable as a key, or garbage", () => {
    const garbage = join(dir, "garbage.jwk");
    writeFileSync(garbage, "{ not json");
    const pem = join(dir, "notakey.pem");
    writeFileSync(pem, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    const list = join(dir, "list.jws");
    writeFileSync(list, "a.b.c");
    const f = write(
      oneCamera +
        `trust:\n  lists:\n    - { source: ${list}, rootKey: ${join(dir, "missing.jwk")} }\n    - { source: ${list}, rootKey: ${garbage} }\n    - { source: ${list}, rootKey: ${pem} }\n    - { source: ${join(dir, "nolist.jws")}, rootKey: ${garbage} }\n`,
    );
    const r = runCli(["config", "check", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("trust.lists[0].rootKey: no such file or directory");
    expect(r.stderr).toContain("trust.lists[1].rootKey: root key file is not valid JSON");
    expect(r.stderr).toContain("trust.lists[2].rootKey: root key is neither a JWK nor a PEM public key");
    expect(r.stderr).toContain("trust.lists[3].source: no such file or directory");
  });

  it("exits 2 for a missing clip, a lane without cameras, a URL without scheme and a missing ffmpeg", () => {
    const f = write(
      "lanes: [{ id: l1 }, { id: l2 }]\n" +
        `cameras:\n  - { id: c1, lane: l1, source: file, file: ${join(dir, "nope.ts")} }\n  - { id: c2, lane: l1, url: rtsp://127.0.0.1/x, ffmpegPath: /nonexistent/ffmpeg }\n` +
        "mqtt: { url: 10.0.0.6:1883 }\nredis: { url: localhost:6379 }\n" +
        "trust:\n  jwks: [{ issuer: http://issuer.example }]\n  revocations: [http://deny.example/list.txt, { source: http://deny.example/ok.txt, allowInsecureHttp: true }]\n",
    );
    const r = runCli(["config", "check", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cameras[c1].file: no such file or directory");
    expect(r.stderr).toContain("lanes[l2]: no camera watches this lane");
    expect(r.stderr).toContain("mqtt.url: must start with mqtt://, mqtts://, ws:// or wss:// (got '10.0.0.6:1883')");
    expect(r.stderr).toContain("redis.url: must start with redis:// or rediss://");
    expect(r.stderr).toContain("ffmpeg executable not found (got '/nonexistent/ffmpeg')");
    expect(r.stderr).toContain("trust.jwks[http://issuer.example].source: plain http for an unsigned source needs allowInsecureHttp: true");
    expect(r.stderr).toContain("trust.revocations[0]: plain http for an unsigned source needs allowInsecureHttp: true");
    expect(r.stderr).not.toContain("trust.revocations[1]");
  });

  it("never prints a secret it reports a problem with: ${ENV} values, tokens in a URL's query, a password holding @", () => {
    const f = write(
      "lanes: [{ id: l1 }]\n" +
        "cameras:\n  - { id: c1, lane: l1, url: 'rtsp://admin:Winter@2024!@127.0.0.1/x', ffmpegPath: /nonexistent/ffmpeg }\n" +
        "trust:\n  revocations: ['http://deny.example/list.txt?access_token=${DENY_TOKEN}', 'http://deny.example/b.txt?k=${DENY_KEY}']\n",
    );
    const r = runCli(["config", "check", f], { DENY_TOKEN: "s3cr3t-deny-token-value", DENY_KEY: "k3y-from-the-env" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("trust.revocations[0]: plain http for an unsigned source needs allowInsecureHttp: true");
    expect(r.stderr).toContain("trust.revocations[1]: plain http");
    expect(r.stderr).not.toContain("s3cr3t-deny-token-value");
    expect(r.stderr).not.toContain("k3y-from-the-env");
    expect(r.stderr).not.toContain("2024!");
  });

  it("exits 2 when a listener's port is taken, and when the state dir is a file", async () => {
    const busy: Server = createServer();
    await new Promise<void>((ok) => busy.listen(0, "127.0.0.1", ok));
    const port = (busy.address() as { port: number }).port;
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    const f = join(dir, "port.yaml");
    writeFileSync(f, `gateway: { stateDir: ${file} }\nserver: { listen: { host: 127.0.0.1, port: ${port} } }\n${oneCamera}`);
    const r = runCli(["config", "check", f]);
    busy.close();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`server.listen: port already in use (got '127.0.0.1:${port}')`);
    expect(r.stderr).toContain("gateway.stateDir: not a directory");
  });

  it("--connect exits 3 naming what does not answer, 0 when the real Redis and Mosquitto answer", async () => {
    const closed: Server = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const down = write(oneCamera + `redis: { url: "redis://:pw-secret@127.0.0.1:${port}/0" }\n`);
    const r = runCli(["config", "check", "--connect", down]);
    expect(r.stderr).toContain(`redis (127.0.0.1:${port}): cannot connect (ECONNREFUSED)`);
    expect(r.stderr).not.toContain("pw-secret");
    expect(r.status).toBe(3);

    mkdirSync(join(dir, "state"), { recursive: true });
    const clip = join(dir, "clip.ts");
    writeFileSync(clip, "");
    const up = write(`lanes: [{ id: l1 }]\ncameras: [{ id: c1, lane: l1, source: file, file: ${clip} }]\nredis: { url: redis://127.0.0.1:6379 }\nmqtt: { url: mqtt://127.0.0.1:1883 }\n`);
    const ok = runCli(["config", "check", "--connect", up]);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toContain("all reachable");
    expect(ok.status).toBe(0);
  });

  it("checks a camera's substream host on its own (--connect), and refuses a substream URL without a host, credentials masked", async () => {
    const listening: Server = createServer();
    await new Promise<void>((ok) => listening.listen(0, "127.0.0.1", ok));
    const up = (listening.address() as { port: number }).port;
    const closed: Server = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const down = (closed.address() as { port: number }).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    try {
      const f = write(`lanes: [{ id: l1 }]\ncameras:\n  - id: c1\n    lane: l1\n    url: rtsp://127.0.0.1:${up}/main\n    subStream: { url: "rtsp://op:sub-secret@127.0.0.1:${down}/sub" }\n`);
      const r = await preflight(loadConfigFile(f, {}), { skipPorts: true, connect: true, connectTimeoutMs: 2000 });
      expect(r.unreachable).toEqual([`cameras[c1].subStream (127.0.0.1:${down}): cannot connect (ECONNREFUSED)`]);
      const cli = runCli(["config", "check", "--connect", f]);
      expect(cli.status).toBe(3);
      expect(cli.stderr).toContain(`cameras[c1].subStream (127.0.0.1:${down})`);
      expect(cli.stderr + cli.stdout).not.toContain("sub-secret");
    } finally {
      await new Promise<void>((ok) => listening.close(() => ok()));
    }
    const nohost = write(`lanes: [{ id: l1 }]\ncameras:\n  - id: c1\n    lane: l1\n    url: rtsp://127.0.0.1/main\n    subStream: { url: "rtsp://op:sub-secret@/sub" }\n`);
    const r = await preflight(loadConfigFile(nohost, {}), { skipPorts: true });
    expect(r.problems).toContainEqual(expect.stringMatching(/^cameras\[c1\]\.subStream\.url: no host in the URL \(got 'rtsp:\/\/\*\*\*:\*\*\*@\/sub'\)$/));
  });

  it("the shipped demo config passes the preflight as it is (npm start must work)", async () => {
    const report = await preflight(loadConfigFile("config/demo.yaml", {}), { skipPorts: true });
    expect(report).toEqual({ problems: [], unreachable: [] });
  });

  it("exits 64 on an unknown command or option", () => {
    expect(runCli(["frobnicate"]).status).toBe(64);
    expect(runCli(["config", "check", "--bogus", "x.yaml"]).status).toBe(64);
  });
});
