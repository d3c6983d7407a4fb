/**
 * Issue #11.7: the zxing-wasm SHA-256 is pinned in this repository. A tampered package that also
 * rewrites its own exported ZXING_WASM_SHA256 (simulated with vi.mock) must still be refused.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";

const tampered = await vi.hoisted(async () => {
  const { createRequire } = await import("node:module");
  const { createHash } = await import("node:crypto");
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const bytes = fs.readFileSync(createRequire(import.meta.url).resolve("zxing-wasm/reader/zxing_reader.wasm"));
  bytes[4096] = bytes[4096]! ^ 0x01;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gw-wasm-pin-")), "zxing_reader.wasm");
  fs.writeFileSync(file, bytes);
  return { file, sha256: createHash("sha256").update(bytes).digest("hex") };
});

// The attacker's package: its export vouches for the tampered binary.
vi.mock("zxing-wasm/reader", async (importOriginal) => ({ ...(await importOriginal<object>()), ZXING_WASM_SHA256: tampered.sha256 }));

const { PINNED_ZXING_WASM, locateReaderWasm, readVerifiedWasm, sha256Hex } = await import("../../src/decode/wasm-loader.js");

describe("zxing-wasm binary pinned in this repository", () => {
  it("refuses a tampered binary even when the package's own exported hash matches it", async () => {
    const { ZXING_WASM_SHA256 } = await import("zxing-wasm/reader");
    expect(ZXING_WASM_SHA256).toBe(tampered.sha256); // the package now vouches for the tampered bytes
    expect(() => readVerifiedWasm(tampered.file)).toThrow(expect.objectContaining({ code: "GW_WASM_CHECKSUM" }));
  });

  it("accepts the installed binary, whose hash is the pinned one", () => {
    expect(sha256Hex(readVerifiedWasm(locateReaderWasm()))).toBe(PINNED_ZXING_WASM.sha256);
  });

  it("the pin names the version package.json installs, and wasm/zxing_reader.wasm.sha256 agrees", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["zxing-wasm"]).toBe(PINNED_ZXING_WASM.version);
    const line = readFileSync("wasm/zxing_reader.wasm.sha256", "utf8").trim();
    expect(line).toBe(`${PINNED_ZXING_WASM.sha256}  zxing-wasm@${PINNED_ZXING_WASM.version}/dist/reader/zxing_reader.wasm`);
  });
});
