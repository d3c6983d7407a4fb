/**
 * Building blocks for the demo, the end-to-end tests and the e2e benchmark: real signed
 * credentials (fresh keys, private halves never written) and H.264 clips in which "travellers"
 * hold a phone showing a QR code in front of the camera at given times.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { deflateSync, inflateSync } from "node:zlib";
import { Decoder, Encoder, Tag } from "cbor-x";
import QRCode from "qrcode";
import type { JWK } from "jose";
import { issuePass, type PassClaims } from "../src/verify/index.js";
import { base45Decode, base45Encode } from "../src/verify/codec/base45.js";
import { PASS_PREFIX } from "../src/verify/pass/claims.js";
import { signTrustList } from "../src/verify/trust/signed-list.js";

const DAY = 86_400;

export interface DemoCredentials {
  /** The pinned root public key (JWK) and the trust list it signed (compact JWS). */
  rootPublicJwk: JWK;
  trustListJws: string;
  passes: { valid: string; valid2: string; expired: string; tampered: string; unknownIssuer: string };
}

function ecKeyPair(): { privateKey: KeyObject; publicJwk: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { privateKey, publicJwk: publicKey.export({ format: "jwk" }) as JWK };
}

function claims(passId: string, validFrom: number, validUntil: number, health: PassClaims["health"] = "cleared"): PassClaims {
  return { version: 1, passId, subjectRef: `ref-${passId}`, origin: "VN-HN", destination: ["VN-SG"], declaredAt: validFrom, health, validFrom, validUntil, issuer: "demo-health-authority" };
}

/**
 * Alters a signed pass's claims but keeps the original signature: what a forger who edits the
 * health status gets. The verifier must answer SIGNATURE_INVALID.
 */
export function tamper(passText: string): string {
  const raw = base45Decode(passText.slice(PASS_PREFIX.length));
  const cose = raw[0] === 0x78 ? inflateSync(raw) : Buffer.from(raw);
  const dec = new Decoder({ mapsAsObjects: false, useRecords: false } as ConstructorParameters<typeof Decoder>[0]);
  const enc = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false, variableMapSize: true } as ConstructorParameters<typeof Encoder>[0]);
  const tag = dec.decode(cose) as Tag;
  const [prot, unprot, payload, sig] = tag.value as [Uint8Array, unknown, Uint8Array, Uint8Array];
  const m = dec.decode(payload) as Map<number, unknown>;
  m.set(7, 0); // health -> "cleared"
  m.set(9, (m.get(9) as number) + 365 * DAY); // and a longer validity
  const forged = enc.encode(new Tag([prot, unprot, enc.encode(m), sig], 18));
  const packed = deflateSync(forged, { level: 9 });
  return PASS_PREFIX + base45Encode(packed.length < forged.length ? packed : forged);
}

/**
 * Keys, a trust list signed by a root and five passes. The trust list has no expiry and the
 * valid passes run for 20 years, so committed demo data keeps working.
 */
export async function makeDemoCredentials(nowS = Math.floor(Date.now() / 1000)): Promise<DemoCredentials> {
  const root = ecKeyPair();
  const issuer = ecKeyPair();
  const rogue = ecKeyPair();
  const rootPrivate = { ...(root.privateKey.export({ format: "jwk" }) as JWK), kid: "demo-root" };
  const from = nowS - 30 * DAY;
  const payload = {
    version: 1,
    issuedAt: new Date(nowS * 1000).toISOString(),
    entries: [{ kid: "demo-issuer-1", issuer: "demo-health-authority", formats: ["pass"], jwk: issuer.publicJwk }],
  };
  const trustListJws = await signTrustList(payload, rootPrivate);
  const long = nowS + 20 * 365 * DAY;
  const valid = issuePass(claims("DEMO-0001", from, long), "demo-issuer-1", issuer.privateKey);
  const valid2 = issuePass(claims("DEMO-0002", from, long), "demo-issuer-1", issuer.privateKey);
  const expired = issuePass(claims("DEMO-0003", from - 300 * DAY, from - 200 * DAY), "demo-issuer-1", issuer.privateKey);
  const tampered = tamper(issuePass(claims("DEMO-0004", from, long, "isolate"), "demo-issuer-1", issuer.privateKey));
  const unknownIssuer = issuePass(claims("DEMO-0005", from, long), "rogue-issuer", rogue.privateKey);
  return { rootPublicJwk: { ...root.publicJwk, kid: "demo-root" }, trustListJws, passes: { valid, valid2, expired, tampered, unknownIssuer } };
}

export interface Presentation {
  text: string;
  startS: number;
  endS: number;
}

export interface ClipOptions {
  out: string;
  width: number;
  height: number;
  fps: number;
  durationS: number;
  presentations: Presentation[];
  /** x264 quality; higher is smaller. */
  crf?: number;
  /** Keyframe interval in frames (short: quick joins and loops). */
  gop?: number;
  /** Phone size relative to frame height. */
  phoneScale?: number;
}

interface Sprite {
  w: number;
  h: number;
  px: Uint8Array;
}

/** A phone: dark body, white screen, the QR code with its quiet zone. */
function phoneSprite(text: string, heightPx: number): Sprite {
  const qr = QRCode.create(text, { errorCorrectionLevel: "M" });
  const n = qr.modules.size;
  const quiet = 4;
  const modulePx = Math.max(2, Math.floor((heightPx * 0.55) / (n + 2 * quiet)));
  const code = (n + 2 * quiet) * modulePx;
  const w = code + 2 * Math.round(code * 0.06);
  const h = Math.round(code * 1.7);
  const px = new Uint8Array(w * h).fill(35);
  const ox = Math.round((w - code) / 2);
  const oy = Math.round((h - code) / 2);
  for (let y = 0; y < code; y++) {
    for (let x = 0; x < code; x++) {
      const mx = Math.floor(x / modulePx) - quiet;
      const my = Math.floor(y / modulePx) - quiet;
      const dark = mx >= 0 && my >= 0 && mx < n && my < n && qr.modules.get(my, mx);
      px[(oy + y) * w + ox + x] = dark ? 25 : 230;
    }
  }
  return { w, h, px };
}

function background(width: number, height: number): Uint8Array {
  const bg = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) bg[y * width + x] = 90 + Math.round((60 * y) / height) + Math.round((20 * x) / width);
  return bg;
}

/** Renders gray frames and encodes them to MPEG-TS H.264 (no sliced threads: see field notes). */
export async function renderClip(o: ClipOptions): Promise<void> {
  const { width, height, fps } = o;
  const bg = background(width, height);
  const sprites = o.presentations.map((p) => phoneSprite(p.text, Math.round(height * (o.phoneScale ?? 0.9))));
  const args = [
    "-hide_banner", "-loglevel", "error", "-y",
    "-f", "rawvideo", "-pix_fmt", "gray", "-s", `${width}x${height}`, "-r", String(fps), "-i", "pipe:0",
    "-c:v", "libx264", "-preset", "veryfast", "-crf", String(o.crf ?? 30), "-g", String(o.gop ?? fps), "-bf", "0",
    "-x264-params", "sliced-threads=0", "-pix_fmt", "yuv420p", "-f", "mpegts", o.out,
  ];
  const ff = spawn("ffmpeg", args, { stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  ff.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    ff.on("error", reject);
    ff.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${err.slice(-500)}`))));
  });
  const frames = Math.round(o.durationS * fps);
  for (let i = 0; i < frames; i++) {
    const t = i / fps;
    const f = Buffer.from(bg);
    o.presentations.forEach((p, k) => {
      if (t < p.startS || t >= p.endS) return;
      const s = sprites[k]!;
      // A hand is never still: a slow drift of a few pixels.
      const x0 = Math.round((width - s.w) / 2 + 8 * Math.sin(t * 1.7 + k));
      const y0 = Math.round((height - s.h) / 2 + 5 * Math.cos(t * 1.1 + k));
      for (let y = 0; y < s.h; y++) {
        const yy = y0 + y;
        if (yy < 0 || yy >= height) continue;
        const start = Math.max(0, x0);
        const end = Math.min(width, x0 + s.w);
        if (end > start) f.set(s.px.subarray(y * s.w + (start - x0), y * s.w + (end - x0)), yy * width + start);
      }
    });
    if (!ff.stdin.write(f)) await new Promise((r) => ff.stdin.once("drain", r));
  }
  ff.stdin.end();
  await done;
}
