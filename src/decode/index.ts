/** Public surface of the decode stage. */
export { DecodePool, type DecodePoolOptions } from "./pool.js";
export { decodeImageAsCamera, decodeImageFile } from "./image-file.js";
export type { DecodePassName } from "./options.js";
