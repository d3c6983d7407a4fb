import { readFileSync } from "node:fs";
import vm from "node:vm";

const LANE_JS = readFileSync(new URL("../../src/output/http/static/lane.js", import.meta.url), "utf8");

/** One EventSource the page opened; the test plays the gateway on it. */
export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readyState = 0;
  onerror: ((e: unknown) => void) | null = null;
  private readonly listeners = new Map<string, Array<(e: { data: string }) => void>>();
  constructor(readonly url: string) {}
  addEventListener(name: string, fn: (e: { data: string }) => void): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn]);
  }
  close(): void {
    this.readyState = 2;
  }
  emit(name: string, data: unknown): void {
    this.readyState = 1;
    for (const fn of this.listeners.get(name) ?? []) fn({ data: JSON.stringify(data) });
  }
}

/**
 * Runs the lane page's script (src/output/http/static/lane.js) in a vm with a minimal DOM, a fake
 * EventSource and virtual timers, so its watchdog and TTL rules can be checked to the millisecond.
 */
export function bootLanePage(lane = "A") {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { fn: () => void; at: number; every: number }>();
  // A browser runs a delay past 2^31-1 ms at once; so does this.
  const delay = (ms: number) => (ms > 2 ** 31 - 1 ? 0 : Math.max(0, ms || 0));
  const elements = new Map<string, { textContent: string; lang: string }>();
  const el = (id: string) => elements.get(id) ?? elements.set(id, { textContent: "", lang: "" }).get(id)!;
  const body = { className: "", dataset: {} as Record<string, string> };
  const sources: FakeEventSource[] = [];
  const ctx = {
    document: { body, documentElement: { lang: "" }, getElementById: el },
    location: { pathname: `/lanes/${encodeURIComponent(lane)}` },
    EventSource: class extends FakeEventSource {
      constructor(url: string) {
        super(url);
        sources.push(this);
      }
    },
    fetch: async () => ({ status: 200 }),
    setTimeout: (fn: () => void, ms: number) => (timers.set(nextId, { fn, at: now + delay(ms), every: 0 }), nextId++),
    setInterval: (fn: () => void, ms: number) => (timers.set(nextId, { fn, at: now + Math.max(1, ms), every: Math.max(1, ms) }), nextId++),
    clearTimeout: (id: number) => void timers.delete(id),
    clearInterval: (id: number) => void timers.delete(id),
  };
  vm.createContext(ctx);
  vm.runInContext(LANE_JS, ctx);
  return {
    /** The stream the page has open now. */
    es: () => sources[sources.length - 1]!,
    now: () => now,
    state: () => body.dataset.state,
    code: () => el("code").textContent,
    /** Moves virtual time on, running due timers in order. */
    advance(ms: number): void {
      const end = now + ms;
      for (;;) {
        let next: [number, { fn: () => void; at: number; every: number }] | undefined;
        for (const entry of timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
        if (!next) break;
        const [id, t] = next;
        now = t.at;
        if (t.every) t.at += t.every;
        else timers.delete(id);
        t.fn();
      }
      now = end;
    },
  };
}

export type LanePage = ReturnType<typeof bootLanePage>;
