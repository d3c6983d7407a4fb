import type { ServerResponse } from "node:http";

/**
 * Server-Sent Events framing. `data` is one JSON line (JSON.stringify never emits a raw
 * newline), so a frame is exactly `event:`, optional `id:`, `data:` and a blank line.
 */
export function sseFrame(event: string, data: unknown, id?: number | string): string {
  if (/[\r\n]/.test(event) || (id !== undefined && /[\r\n]/.test(String(id)))) throw new Error("SSE event name and id must be single-line");
  return `event: ${event}\n${id !== undefined ? `id: ${id}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
}

/** How long EventSource waits before reconnecting; short, a lane display must come back fast. */
export const SSE_RETRY_MS = 1000;

/** A slow or vanished client must not make the gateway buffer without bound. */
const MAX_BUFFERED_BYTES = 256 * 1024;

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
  connection: "keep-alive",
  // Reverse proxies (nginx) would otherwise buffer the stream and delay verdicts.
  "x-accel-buffering": "no",
} as const;

export class SseClient {
  private closed = false;
  private readonly closeHandlers: Array<() => void> = [];

  /** `onCutOff` is told when the stream is ended because the client reads too slowly. */
  constructor(
    private readonly res: ServerResponse,
    private readonly onCutOff?: () => void,
  ) {
    res.on("close", () => this.markClosed());
    res.on("error", () => this.markClosed());
  }

  open(): void {
    this.res.writeHead(200, SSE_HEADERS);
    this.res.write(`retry: ${SSE_RETRY_MS}\n\n`);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  send(event: string, data: unknown, id?: number | string): boolean {
    if (this.closed) return false;
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.onCutOff?.();
      this.end();
      return false;
    }
    this.res.write(sseFrame(event, data, id));
    return true;
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeHandlers.push(fn);
  }

  end(): void {
    if (!this.closed) this.res.end();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fn of this.closeHandlers.splice(0)) fn();
  }
}
