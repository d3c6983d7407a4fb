import { EventEmitter } from "node:events";
import type { LaneStatus, VerdictEvent } from "./types.js";

/** A stage reports that a lane cannot work (or works again); `lane` absent means every lane. */
export interface LaneProblemEvent {
  problem: string;
  on: boolean;
  lane?: string;
  /** Short operator text for the log; never payload data. */
  detail?: string;
}

interface BusEvents {
  verdict: [VerdictEvent];
  "lane-status": [LaneStatus];
  "lane-problem": [LaneProblemEvent];
}

/**
 * The lane publishes here; outputs (display, MQTT, spool, ledger, metrics) subscribe.
 * Listeners must not throw: an exception in one output must not stop the others,
 * so `emit` isolates them and reports through `onListenerError`.
 */
export class GatewayBus {
  private readonly ee = new EventEmitter();
  constructor(private readonly onListenerError: (err: unknown, event: string) => void = () => {}) {
    this.ee.setMaxListeners(100);
  }
  on<K extends keyof BusEvents>(event: K, fn: (...args: BusEvents[K]) => void): () => void {
    const wrapped = (...args: BusEvents[K]) => {
      try {
        fn(...args);
      } catch (e) {
        this.onListenerError(e, event);
      }
    };
    this.ee.on(event, wrapped as (...a: unknown[]) => void);
    return () => this.ee.off(event, wrapped as (...a: unknown[]) => void);
  }
  emit<K extends keyof BusEvents>(event: K, ...args: BusEvents[K]): void {
    this.ee.emit(event, ...args);
  }
}
