import type { X509Certificate } from "node:crypto";

/** DCC signer certificate extended key usage OIDs per certificate type (eHealth Network, hcert spec 1.0.5 §5.1). */
const OIDS: Record<"t" | "v" | "r", readonly string[]> = {
  t: ["1.3.6.1.4.1.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.1"],
  v: ["1.3.6.1.4.1.1847.2021.1.2", "1.3.6.1.4.1.0.1847.2021.1.2"],
  r: ["1.3.6.1.4.1.1847.2021.1.3", "1.3.6.1.4.1.0.1847.2021.1.3"],
};
const ALL = new Set(Object.values(OIDS).flat());

/** A DSC without any DCC OID may sign every type; one with some of them only those types. */
export function keyUsageAllows(cert: X509Certificate | undefined, type: "t" | "v" | "r"): boolean {
  const eku = cert?.keyUsage;
  if (!eku || !eku.some((o) => ALL.has(o))) return true;
  return OIDS[type].some((o) => eku.includes(o));
}
