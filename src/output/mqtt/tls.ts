import { readFileSync } from "node:fs";
import type { IClientOptions } from "mqtt";
import type { MqttConfig } from "../options.js";

/** TLS client options for mqtts:// and wss:// URLs; plain URLs get none. Files are read once, at start. */
export function tlsOptions(cfg: MqttConfig): Partial<IClientOptions> {
  if (!/^(mqtts|wss|ssl|tls):\/\//i.test(cfg.url)) return {};
  const t = cfg.tls;
  const read = (what: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw Object.assign(new Error(`mqtt.tls.${what}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`), { code: "GW_CONFIG_INVALID" });
    }
  };
  const ca = read("ca", t.ca);
  const cert = read("cert", t.cert);
  const key = read("key", t.key);
  return {
    rejectUnauthorized: t.rejectUnauthorized,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(t.servername ? { servername: t.servername } : {}),
  };
}
