import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZXING_WASM_SHA256 } from "zxing-wasm/reader";
import { loadReaderModule, locateReaderWasm, readVerifiedWasm, sha256Hex } from "../../src/decode/wasm-loader.js";
import { HeapImage } from "../../src/decode/luma-read.js";
import { baseQrOptions, encodeReaderOptions } from "../../src/decode/reader-options.js";
import { qrFrame } from "./helpers.js";

describe("wasm loader", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("finds the packaged reader binary and it matches the published SHA-256", () => {
    const path = locateReaderWasm();
    expect(path).toMatch(/zxing_reader\.wasm$/);
    expect(sha256Hex(readVerifiedWasm(path))).toBe(ZXING_WASM_SHA256);
  });

  it("refuses a binary whose hash differs (GW_WASM_CHECKSUM)", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-wasm-"));
    const bad = join(dir, "zxing_reader.wasm");
    const bytes = readFileSync(locateReaderWasm());
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(bad, bytes);
    expect(() => readVerifiedWasm(bad)).toThrow(expect.objectContaining({ code: "GW_WASM_CHECKSUM" }));
  });

  it("reuses the thread's instance for the same bytes, and gives a new one when asked fresh (after a failed warm-up)", async () => {
    const bytes = readVerifiedWasm();
    const cached = await loadReaderModule(bytes);
    // Identity compared as booleans: a failing toBe would print the whole module and its heap.
    expect((await loadReaderModule(bytes)) === cached).toBe(true);
    const fresh = await loadReaderModule(bytes, { fresh: true });
    expect(fresh === cached).toBe(false);
    // The new instance has its own heap and reads on its own.
    expect(fresh.HEAPU8.buffer === cached.HEAPU8.buffer).toBe(false);
    const img = new HeapImage(fresh);
    img.load(qrFrame("FRESH-INSTANCE-7", { width: 400, height: 300, stride: 400, module: 3 }));
    const { codes } = img.read(encodeReaderOptions(baseQrOptions));
    img.free();
    expect(codes.map((c) => c.text)).toEqual(["FRESH-INSTANCE-7"]);
  });

  it("reports a missing binary as GW_WASM_MISSING", () => {
    expect(() => readVerifiedWasm("/nonexistent/zxing_reader.wasm")).toThrow(expect.objectContaining({ code: "GW_WASM_MISSING" }));
  });

  it("decodes strided luma with fetch replaced by a function that throws", async () => {
    const fetchSpy = vi.fn(() => {
      throw new Error("network access attempted");
    });
    vi.stubGlobal("fetch", fetchSpy);
    const mod = await loadReaderModule();
    const img = new HeapImage(mod);
    const frame = qrFrame("OFFLINE-OK-42", { width: 700, height: 500, stride: 768, module: 3 });
    img.load(frame);
    const { codes } = img.read(encodeReaderOptions(baseQrOptions));
    img.free();
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(codes.map((c) => c.text)).toEqual(["OFFLINE-OK-42"]);
    expect(new TextDecoder().decode(codes[0]!.bytes)).toBe("OFFLINE-OK-42");
    // Code drawn at (100, 80) with 3 px modules: the top-left corner lies there.
    const [tl] = codes[0]!.corners;
    expect(Math.abs(tl[0] - 100)).toBeLessThanOrEqual(3);
    expect(Math.abs(tl[1] - 80)).toBeLessThanOrEqual(3);
  });
});
