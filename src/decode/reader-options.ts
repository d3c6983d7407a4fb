import type { ZXingReaderModule } from "zxing-wasm/reader";
import { binarizers, characterSets, defaultReaderOptions, eanAddOnSymbols, encodeFormats, textModes, type ReaderOptions } from "zxing-wasm/reader";

/** The options object `readBarcodesFromPixmap` takes: enums as indices, formats as a joined string. */
export type EncodedReaderOptions = Parameters<ZXingReaderModule["readBarcodesFromPixmap"]>[3];

/** QR only: restricting formats is the biggest single cost lever (FIELD-NOTES: 182 ms -> 6-9 ms at 1080p). */
export const baseQrOptions: ReaderOptions = {
  formats: ["QRCode"],
  tryHarder: false,
  tryRotate: false,
  tryInvert: false,
  tryDownscale: false,
  tryDenoise: false,
  binarizer: "LocalAverage",
  maxNumberOfSymbols: 8,
  // The payload exactly as encoded (control characters, GS1 group separators), not zxing's
  // human-readable rendering ("<GS>", "(01)"): verifiers parse the raw string.
  textMode: "Plain",
};

/**
 * Same encoding the package's share.js applies before calling into wasm, built from its public
 * exports so a package update that renumbers an enum is picked up rather than hard-coded here.
 */
export function encodeReaderOptions(opts: ReaderOptions): EncodedReaderOptions {
  const o = { ...defaultReaderOptions, ...opts };
  const cs: string = o.characterSet;
  const charset = cs === "UnicodeBig" ? "UTF16BE" : cs;
  return {
    ...o,
    formats: encodeFormats(o.formats),
    binarizer: binarizers.indexOf(o.binarizer),
    eanAddOnSymbol: eanAddOnSymbols.indexOf(o.eanAddOnSymbol),
    textMode: textModes.indexOf(o.textMode),
    characterSet: characterSets.indexOf(charset as (typeof characterSets)[number]),
    tryCode39ExtendedMode: o.tryCode39ExtendedMode ?? true,
  } as unknown as EncodedReaderOptions;
}
