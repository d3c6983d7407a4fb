import type { LaneProblemEvent } from "../core/bus.js";
import type { Logger } from "../core/logger.js";
import { LaneProblems, type Lane, type LaneProblem } from "../lane/index.js";

/** What a raised problem needs of a lane. */
export type ProblemTarget = Pick<Lane, "id" | "setProblem">;

/**
 * Routes the bus's `lane-problem` events: any stage can take one lane (or every lane, without
 * `lane`) out of service, see src/lane/state.ts. What is raised is remembered, because a lane built
 * by a reload must start with the problems already raised for it or for every lane.
 */
export class LaneProblemRouter {
  /** Raised problems by lane id; "*" holds those for every lane. */
  private readonly raised = new Map<string, Set<string>>();

  constructor(private readonly log: Logger) {}

  handle(e: LaneProblemEvent, lanes: Iterable<ProblemTarget>): void {
    if (!(e.problem in LaneProblems)) this.log.warn({ problem: e.problem }, "lane problem without a catalogue entry (src/lane/state.ts)");
    const key = e.lane ?? "*";
    const set = this.raised.get(key) ?? new Set<string>();
    if (e.on) set.add(e.problem);
    else set.delete(e.problem);
    this.raised.set(key, set);
    (e.on ? this.log.warn : this.log.info).call(this.log, { lane: e.lane ?? "*", problem: e.problem, detail: e.detail }, e.on ? "lane problem raised" : "lane problem cleared");
    for (const l of lanes) if (!e.lane || e.lane === l.id) l.setProblem(e.problem as LaneProblem, e.on);
  }

  /** Raises on a newly built lane what is raised for it or for every lane. */
  applyTo(lane: ProblemTarget): void {
    for (const p of [...(this.raised.get("*") ?? []), ...(this.raised.get(lane.id) ?? [])]) lane.setProblem(p as LaneProblem, true);
  }
}
