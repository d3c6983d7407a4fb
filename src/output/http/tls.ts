import { createHash, X509Certificate } from "node:crypto";
import { readFileSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import { GatewayError } from "../../core/errors.js";
import { guarded } from "../../core/faults.js";
import type { Logger } from "../../core/logger.js";

export interface TlsFiles {
  cert: string;
  key: string;
}

export function readTlsFiles(f: TlsFiles): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(f.cert), key: readFileSync(f.key) };
}

/**
 * The pair for start-up, checked the way the server will use it (a key that does not match the
 * certificate fails here), so a bad path or file is a clear config error, not a stack trace.
 */
export function loadTlsAtStart(f: TlsFiles): { cert: Buffer; key: Buffer } {
  let pair: { cert: Buffer; key: Buffer };
  try {
    pair = readTlsFiles(f);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new GatewayError("GW_CONFIG_INVALID", `server.tls: cannot read ${err.path ?? f.cert} (${err.code ?? err.message})`, { cause: e });
  }
  try {
    createSecureContext(pair);
  } catch (e) {
    throw new GatewayError("GW_CONFIG_INVALID", `server.tls: ${f.cert} and ${f.key} do not load as a certificate and its key (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  return pair;
}

/** The certificate in service and the reloads that failed, for /metrics. */
export interface TlsState {
  /** Epoch ms the certificate in service stops being valid; absent when its PEM does not parse as X.509. */
  validTo?: number;
  /** Reloads that failed (unreadable or mismatched pair) and watches that could not be set up, since start. */
  reloadErrors: number;
}

/** The leaf's (first certificate's) expiry: the one clients check first. */
function certValidTo(cert: Buffer): number | undefined {
  try {
    return new X509Certificate(cert).validToDate.getTime();
  } catch {
    return undefined;
  }
}

export interface TlsReloaderOptions {
  files: TlsFiles;
  /** Applies new material (https.Server#setSecureContext); throws when it is unusable. */
  apply: (ctx: SecureContextOptions) => void;
  logger: Logger;
  /** Renewal tools write the key and the certificate one after the other: wait for both. */
  settleMs?: number;
}

/**
 * Watches the certificate and key and swaps them into the running server, so a renewed
 * certificate (certbot, step-ca) is served without a restart. The directories are watched, not
 * the files, because renewal usually replaces a file (rename or symlink swap) and a file watch
 * would stay on the old inode. A pair that does not load (half written, key mismatch) is logged
 * and the current one stays in service.
 */
export class TlsReloader {
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDigest: string;
  private validTo: number | undefined;
  private reloadErrors = 0;

  constructor(private readonly o: TlsReloaderOptions) {
    const pair = readTlsFiles(o.files);
    this.lastDigest = this.digest(pair);
    this.validTo = certValidTo(pair.cert);
  }

  state(): TlsState {
    return { ...(this.validTo !== undefined ? { validTo: this.validTo } : {}), reloadErrors: this.reloadErrors };
  }

  start(): void {
    const files = [resolve(this.o.files.cert), resolve(this.o.files.key)];
    const names = new Set(files.map((f) => basename(f)));
    for (const dir of new Set(files.map((f) => dirname(f)))) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || names.has(name.toString())) this.schedule();
        });
        w.on("error", (e) => this.watchFailed(dir, e));
        this.watchers.push(w);
      } catch (e) {
        this.watchFailed(dir, e);
      }
    }
  }

  private watchFailed(dir: string, e: unknown): void {
    this.reloadErrors++;
    this.o.logger.warn({ code: "GW_TLS_RELOAD_FAILED", dir, err: e instanceof Error ? e.message : String(e) }, "cannot watch the TLS directory; certificate changes need a restart");
  }

  /** Re-reads both files and applies them when they changed; returns whether new material is in use. */
  reload(): boolean {
    try {
      const pair = readTlsFiles(this.o.files);
      const d = this.digest(pair);
      if (d === this.lastDigest) return false;
      this.o.apply(pair);
      this.lastDigest = d;
      this.validTo = certValidTo(pair.cert);
      this.o.logger.info({ cert: this.o.files.cert }, "TLS certificate reloaded");
      return true;
    } catch (e) {
      this.reloadErrors++;
      this.o.logger.warn({ code: "GW_TLS_RELOAD_FAILED", cert: this.o.files.cert, err: e instanceof Error ? e.message : String(e) }, "TLS certificate not reloaded; the current one stays in use");
      return false;
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watchers.splice(0)) w.close();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    // reload() logs its own errors; guarded anyway, as every timer is (src/core/faults.ts).
    this.timer = setTimeout(
      guarded(() => {
        this.timer = undefined;
        this.reload();
      }, "http.tls.reload", "timer"),
      this.o.settleMs ?? 300,
    );
  }

  private digest(p: { cert: Buffer; key: Buffer }): string {
    return createHash("sha256").update(p.cert).update("\0").update(p.key).digest("hex");
  }
}
