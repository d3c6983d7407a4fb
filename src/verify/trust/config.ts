import type { z } from "zod";
import type { trustSection } from "../../config/sections/trust.js";

/** The validated `trust:` section of the gateway config. */
export type TrustConfig = z.output<typeof trustSection>;
