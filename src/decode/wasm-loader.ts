import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { prepareZXingModule, ZXING_WASM_SHA256, type ZXingReaderModule as PackageModule } from "zxing-wasm/reader";
import { GatewayError } from "../core/errors.js";

/** The slice of the Emscripten module we use: the raw-luminance entry point and the heap. */
/**
 * The Emscripten members we use. The package types them via @types/emscripten, which is not a
 * dependency here, so the heap and allocator are declared explicitly.
 */
export interface ZXingReaderModule {
  _malloc(size: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
  readBarcodesFromPixmap: PackageModule["readBarcodesFromPixmap"];
}

const require = createRequire(import.meta.url);

/** Absolute path of the reader binary shipped inside the installed zxing-wasm package. */
export function locateReaderWasm(): string {
  try {
    return require.resolve("zxing-wasm/reader/zxing_reader.wasm");
  } catch (e) {
    throw new GatewayError("GW_WASM_MISSING", "zxing-wasm/reader/zxing_reader.wasm not found: is zxing-wasm installed?", { cause: e });
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Reads the binary from disk and refuses it unless it matches the SHA-256 the package publishes:
 * a tampered or mismatched binary would otherwise decode (or misdecode) silently.
 */
export function readVerifiedWasm(path = locateReaderWasm(), expectedSha256: string = ZXING_WASM_SHA256): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new GatewayError("GW_WASM_MISSING", `cannot read zxing reader binary at ${path}`, { cause: e });
  }
  const actual = sha256Hex(bytes);
  if (actual !== expectedSha256) {
    throw new GatewayError("GW_WASM_CHECKSUM", `zxing reader binary ${path} has sha256 ${actual}, package publishes ${expectedSha256}`);
  }
  return bytes;
}

/**
 * Instantiates the reader from bytes we already hold. `wasmBinary` makes Emscripten skip its
 * locateFile/fetch path entirely, so this never touches the network (the default is a CDN URL).
 */
export async function loadReaderModule(wasmBinary: Uint8Array = readVerifiedWasm()): Promise<ZXingReaderModule> {
  // The glue keeps a module cache keyed by override identity; a fresh object forces our bytes.
  const overrides = { wasmBinary: wasmBinary as unknown as ArrayBuffer };
  return (await prepareZXingModule({ overrides, fireImmediately: true })) as unknown as ZXingReaderModule;
}
