import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { prepareZXingModule, type ZXingReaderModule as PackageModule } from "zxing-wasm/reader";
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

/**
 * The reader binary we reviewed, pinned in this repository (also in wasm/zxing_reader.wasm.sha256).
 * Not the hash the package exports: whoever can tamper with the package's binary can change that
 * export in the same release. Upgrading zxing-wasm means re-pinning here (wasm/README.md); a test
 * fails when package.json names another version than the pin.
 */
export const PINNED_ZXING_WASM = Object.freeze({
  version: "3.1.6",
  sha256: "5003fb4b88c4fbd1fd518a2fd8c8ad365c519e183a08c03a322dddfea3cea84e",
});

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
 * Reads the binary from disk and refuses it unless it matches the SHA-256 pinned in this repository:
 * a tampered or mismatched binary would otherwise decode (or misdecode) silently.
 */
export function readVerifiedWasm(path = locateReaderWasm(), expectedSha256: string = PINNED_ZXING_WASM.sha256): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new GatewayError("GW_WASM_MISSING", `cannot read zxing reader binary at ${path}`, { cause: e });
  }
  const actual = sha256Hex(bytes);
  if (actual !== expectedSha256) {
    throw new GatewayError("GW_WASM_CHECKSUM", `zxing reader binary ${path} has sha256 ${actual}, pinned ${expectedSha256} (zxing-wasm ${PINNED_ZXING_WASM.version}; see wasm/README.md)`);
  }
  return bytes;
}

/**
 * Instantiates the reader from bytes we already hold. `wasmBinary` makes Emscripten skip its
 * locateFile/fetch path entirely, so this never touches the network (the default is a CDN URL).
 * The glue caches one instance per thread and reuses it when the overrides compare equal
 * (shallowly: the same bytes do). `fresh` refuses the cached one: after a failure inside the wasm
 * (a failed warm-up) its heap may be corrupt, and only a new instance is known to be clean.
 */
export async function loadReaderModule(wasmBinary: Uint8Array = readVerifiedWasm(), opts: { fresh?: boolean } = {}): Promise<ZXingReaderModule> {
  const overrides = { wasmBinary: wasmBinary as unknown as ArrayBuffer };
  const mod = await prepareZXingModule({ overrides, fireImmediately: true, ...(opts.fresh ? { equalityFn: () => false } : {}) });
  return mod as unknown as ZXingReaderModule;
}
