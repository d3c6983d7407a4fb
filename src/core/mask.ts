/**
 * Secrets are removed where log lines are written (the sink), not at each call site:
 * one missed call site must not leak a camera password.
 */
// The user info runs to the authority's LAST `@` (a password may hold a raw `@`, and ffmpeg and
// WHATWG URL split there); the authority ends at `/`, `?` or `#`.
// Bounded repeats (a scheme of at most 32 characters, a parameter name of at most 64): the sink
// masks every log line, and unbounded ones made a long run of letters cost quadratic time (an
// 80,000-character value took seconds).
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]{0,31}:\/\/)([^/?#\s"']*)@/gi;
// Query parameters that carry a credential (`?access_token=`, `&sig=`, `&password=`, ...).
const QUERY_SECRETS = /([?&](?=[a-z0-9_.-]{1,64}=)[a-z0-9_.-]{0,32}?(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|sig|signature|auth|credential)[a-z0-9_.-]{0,32})=([^&#\s"']*)/gi;

/** `rtsp://admin:pw@host/x` -> `rtsp://***:***@host/x`; `?access_token=abc` -> `?access_token=***`. */
export function maskUrl(text: string): string {
  return text
    .replace(URL_CREDENTIALS, (_m, scheme: string, info: string) => (info.includes(":") ? `${scheme}***:***@` : `${scheme}***@`))
    .replace(QUERY_SECRETS, (_m, name: string, value: string) => (value === "" ? `${name}=` : `${name}=***`));
}

export class SecretMasker {
  private secrets: string[] = [];

  /** Registers values that must never appear in output. Very short values are ignored to avoid masking noise. */
  add(...values: Array<string | undefined | null>): void {
    for (const v of values) {
      if (typeof v === "string" && v.length >= 4 && !this.secrets.includes(v)) this.secrets.push(v);
    }
    // Longest first so a secret that contains another is masked whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let out = maskUrl(text);
    for (const s of this.secrets) {
      if (out.includes(s)) out = out.split(s).join("***");
      const enc = encodeURIComponent(s);
      if (enc !== s && out.includes(enc)) out = out.split(enc).join("***");
      const json = JSON.stringify(s).slice(1, -1);
      if (json !== s && out.includes(json)) out = out.split(json).join("***");
    }
    return out;
  }
}

/** The process-wide masker used by the log sink; config loading registers secrets here. */
export const secretMasker = new SecretMasker();
