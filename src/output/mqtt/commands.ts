import type { Logger } from "../../core/logger.js";
import { decideCommand, type CommandAuth } from "./payloads.js";
import type { LaneCommand } from "./topics.js";
import type { LaneActions } from "./types.js";

export interface CommandCounters {
  commandsAccepted: number;
  commandsRejected: number;
}

/**
 * Runs a live pause/resume command for a lane: decided by `decideCommand` (payload and auth), done
 * through the same actions as the admin API, counted either way. Retained commands never get here.
 */
export function commandRunner(auth: CommandAuth, actions: LaneActions, counters: CommandCounters, log: Logger): (lane: string, command: LaneCommand, payload: Buffer) => void {
  return (lane, command, payload) => {
    const d = decideCommand(command, payload, auth);
    if (!d.ok) {
      counters.commandsRejected++;
      // Never the payload: it may hold a (wrong) token.
      log.warn({ code: "GW_MQTT_COMMAND_REJECTED", lane, command, reason: d.reason }, "mqtt command rejected");
      return;
    }
    try {
      if (d.action === "pause") actions.pause(lane);
      else actions.resume(lane);
      counters.commandsAccepted++;
      log.info({ lane, command: d.action, via: "mqtt" }, "lane command");
    } catch (e) {
      counters.commandsRejected++;
      log.warn({ code: "GW_MQTT_COMMAND_REJECTED", lane, command: d.action, err: (e as Error).message }, "mqtt command failed");
    }
  };
}
