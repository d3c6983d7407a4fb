import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rmDir, tmpDir } from "../events/helpers.js";
import { freePort, lane, listening, MqttTestKit, waitFor } from "./helpers.js";
import { selfSigned, signedBy } from "../support/certs.js";

/**
 * mqtts:// against our own Mosquitto with a TLS listener that requires a client certificate.
 * The CA, server and client certificates are made with openssl at test time (nothing committed).
 */
const dir = tmpDir("mqtt-tls");
const kit = new MqttTestKit();
let broker: ChildProcess | undefined;
let port = 0;
const f = (n: string) => join(dir, n);

beforeAll(async () => {
  selfSigned(dir, "ca");
  selfSigned(dir, "other-ca");
  signedBy(dir, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  signedBy(dir, "client", "ca", "extendedKeyUsage=clientAuth\n");
  signedBy(dir, "rogue", "other-ca", "extendedKeyUsage=clientAuth\n");
  // Mosquitto started as root drops to its own user, which must be able to read the (test-only) keys.
  chmodSync(dir, 0o755);
  for (const n of readdirSync(dir)) chmodSync(f(n), 0o644);
  port = await freePort();
  writeFileSync(
    f("mosquitto.conf"),
    [`listener ${port} 127.0.0.1`, `cafile ${f("ca.pem")}`, `certfile ${f("server.pem")}`, `keyfile ${f("server.key")}`, "require_certificate true", "allow_anonymous true", "persistence false", "log_dest stderr", "log_type error", "log_type warning", "log_type notice"].join("\n") + "\n",
  );
  const stderr: string[] = [];
  broker = spawn("mosquitto", ["-c", f("mosquitto.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  broker.stdout!.on("data", (b: Buffer) => stderr.push(b.toString()));
  broker.stderr!.on("data", (b: Buffer) => stderr.push(b.toString()));
  broker.on("exit", (code) => stderr.push(`exited ${code}`));
  try {
    await waitFor(() => !stderr.join("").includes("exited") && listening(port), `mosquitto TLS listener on ${port}`, 15_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${stderr.join("")}`);
  }
}, 60_000);

afterEach(() => kit.cleanup());
afterAll(() => {
  broker?.kill("SIGTERM");
  rmDir(dir);
});

describe("mqtts:// with CA and client certificate (own Mosquitto, require_certificate true)", () => {
  it("connects with the CA and a client certificate, publishes the lanes' real status over TLS", async () => {
    const url = `mqtts://127.0.0.1:${port}`;
    const h = kit.output({ url, tls: { ca: f("ca.pem"), cert: f("client.pem"), key: f("client.key") } });
    h.states.set("L1", lane("L1", "idle"));
    await h.out.start();
    expect(h.out.stats().connected).toBe(3);
    const w = await kit.watch(`${h.prefix}/#`, url, { ca: readFileSync(f("ca.pem")), cert: readFileSync(f("client.pem")), key: readFileSync(f("client.key")) });
    await waitFor(() => w.last.get(`${h.prefix}/gw-m/lanes/L1/status`) === "online" && w.last.get(`${h.prefix}/gw-m/lanes/L2/status`) === "out-of-service", "statuses over TLS");
  });

  it("is refused without a client certificate, and with one from another CA", async () => {
    const url = `mqtts://127.0.0.1:${port}`;
    const none = kit.output({ url, connectTimeoutMs: 1500, tls: { ca: f("ca.pem") } });
    const rogue = kit.output({ url, connectTimeoutMs: 1500, tls: { ca: f("ca.pem"), cert: f("rogue.pem"), key: f("rogue.key") } });
    await Promise.all([none.out.start(), rogue.out.start()]);
    expect(none.out.stats().connected).toBe(0);
    expect(rogue.out.stats().connected).toBe(0);
    expect(none.lines.some((l) => l.includes("GW_MQTT_UNAVAILABLE"))).toBe(true);
  });

  it("verifies the broker: a client trusting another CA does not connect", async () => {
    const h = kit.output({ url: `mqtts://127.0.0.1:${port}`, connectTimeoutMs: 1500, tls: { ca: f("other-ca.pem"), cert: f("client.pem"), key: f("client.key") } });
    await h.out.start();
    expect(h.out.stats().connected).toBe(0);
    await waitFor(() => h.lines.some((l) => /certificate|self.signed|verify/i.test(l)), "a certificate error in the log");
  });

  it("a missing CA file is a clear config error at start, not a reconnect loop", () => {
    expect(() => kit.output({ url: `mqtts://127.0.0.1:${port}`, tls: { ca: f("nope.pem") } })).toThrow(/mqtt\.tls\.ca: cannot read .*nope\.pem: ENOENT/);
  });
});
