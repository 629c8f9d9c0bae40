import type { PollTarget } from "./target.js";

/**
 * Runs of a queue whose handler took less than this (a moving average of the threads' own timing) share thread
 * hops: posting a task and its answer then costs more than the handler. Slower handlers get a hop each, so that
 * a quick run never waits for a slow one packed with it before its outcome (and slot) comes back.
 */
const PACK_BELOW_MS = 2;

/** Weight of the newest run in a queue's moving average of handler time. */
const RUN_TIME_WEIGHT = 0.2;

/**
 * How many runs of a queue go to a thread in one task: the dispatcher's packing policy, from each queue's
 * moving average of handler time. A queue starts unpacked, until a run has reported how long it took.
 */
export class RunPacking {
  /** Each queue's moving average of handler time (ms), once a run has reported one. */
  readonly #runTimes = new Map<PollTarget, number>();

  /** Runs per task for this queue: up to `maxRunsPerTask` while its handler is quick, else one. */
  runsPerTask(target: PollTarget, maxRunsPerTask: number): number {
    const runTime = this.#runTimes.get(target);
    return runTime !== undefined && runTime < PACK_BELOW_MS ? maxRunsPerTask : 1;
  }

  /**
   * A run of this queue took `runTimeMs`: its handler's time as the thread measured it, or, for a run that hung
   * or crashed its thread, how long it ran.
   */
  record(target: PollTarget, runTimeMs: number): void {
    const average = this.#runTimes.get(target);
    this.#runTimes.set(target, average === undefined ? runTimeMs : average + RUN_TIME_WEIGHT * (runTimeMs - average));
  }
}
