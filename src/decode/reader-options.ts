import { binarizers, characterSets, defaultReaderOptions, eanAddOnSymbols, encodeFormats, textModes, type ReaderOptions } from "zxing-wasm/reader";

/** The options object `readBarcodesFromPixmap` takes: enums as indices, formats as a joined string. */
export type EncodedReaderOptions = Parameters<import("zxing-wasm/reader").ZXingReaderModule["readBarcodesFromPixmap"]>[3];

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
};

/**
 * Same encoding the package's share.js applies before calling into wasm, built from its public
 * exports so a package update that renumbers an enum is picked up rather than hard-coded here.
 */
export function encodeReaderOptions(opts: ReaderOptions): EncodedReaderOptions {
  const o = { ...defaultReaderOptions, ...opts };
  const charset = o.characterSet === "UnicodeBig" ? "UTF16BE" : o.characterSet;
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
