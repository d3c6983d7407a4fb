import { request, type IncomingMessage } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeDemoCredentials, type DemoCredentials } from "../../scripts/demo-kit.js";

export interface SseEvent {
  event: string;
  id?: string;
  data: unknown;
  /** performance.now() when the frame was parsed. */
  arrivedAt: number;
}

/** A plain-HTTP SSE reader (no EventSource): what a display or a third-party client sees. */
export class SseReader {
  readonly events: SseEvent[] = [];
  private res: IncomingMessage | undefined;
  private waiters: Array<() => void> = [];
  ended = false;

  constructor(readonly url: string) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(this.url, { headers: { accept: "text/event-stream" } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`${this.url}: HTTP ${res.statusCode}`));
        this.res = res;
        res.setEncoding("utf8");
        let buf = "";
        res.on("data", (chunk: string) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            this.frame(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        });
        res.on("end", () => {
          this.ended = true;
          this.wake();
        });
        resolve();
      });
      req.on("error", reject);
      req.end();
    });
  }

  private frame(text: string): void {
    let event = "message";
    let id: string | undefined;
    const data: string[] = [];
    for (const line of text.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("id:")) id = line.slice(3).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trim());
    }
    if (data.length === 0) return;
    this.events.push({ event, ...(id !== undefined ? { id } : {}), data: JSON.parse(data.join("\n")) as unknown, arrivedAt: performance.now() });
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `pred` holds for the events so far (checked on every new event). */
  async until(pred: (events: SseEvent[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!pred(this.events)) {
      const left = deadline - performance.now();
      if (left <= 0 || this.ended) throw new Error(`timed out waiting for ${what} on ${this.url}; got ${this.events.map((e) => e.event).join(",")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.res?.destroy();
  }
}

export function verdictsOf(events: SseEvent[]): Array<{ verdict: string; reason: string; seq: number; arrivedAt: number }> {
  return events
    .filter((e) => e.event === "verdict")
    .map((e) => {
      const d = e.data as { verdict: string; reason: string; seq: number };
      return { verdict: d.verdict, reason: d.reason, seq: d.seq, arrivedAt: e.arrivedAt };
    });
}

export function stateOf(e: SseEvent): string | undefined {
  return (e.data as { state?: string }).state;
}

/** Fresh demo credentials with the public half of the trust material written to a temp dir. */
export async function credentialsOnDisk(): Promise<{ dir: string; creds: DemoCredentials; trustList: string; rootKey: string }> {
  const dir = mkdtempSync(join(tmpdir(), "cpgw-e2e-"));
  const creds = await makeDemoCredentials();
  const trustList = join(dir, "trust-list.jws");
  const rootKey = join(dir, "root.pub.jwk.json");
  writeFileSync(trustList, creds.trustListJws);
  writeFileSync(rootKey, JSON.stringify(creds.rootPublicJwk));
  return { dir, creds, trustList, rootKey };
}
