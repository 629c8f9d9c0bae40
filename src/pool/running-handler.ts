/**
 * One handler run as the supervisor sees it ({@link RunningHandler}), built from its task's result, its own early
 * result and its run slot. A run settles on whichever comes first: its early result (a run of a packed task that
 * ended before the others, see RUN_RESULTS) or its task's.
 */
import type { Worker } from "node:worker_threads";
import { TaskNotStartedError } from "../pool-errors.js";
import type { ChannelEndpoint } from "./channel.js";
import type { EarlyRunResults, HandlerRun, Outcome, RunResult, TaskResult } from "./protocol.js";
import type { SupervisorServices, ThreadServices } from "./channel-messages.js";
import type { RunSlots } from "./run-slots.js";

/** One handler run as the supervisor sees it. */
export interface RunningHandler {
  readonly runId: number;
  /**
   * One outcome per message of the run. Rejects if the thread died under it, and with a
   * {@link TaskNotStartedError} if the run never started: its thread was ended first, could not load the
   * receiver modules, or it was aborted while it waited for a permit there.
   */
  readonly outcome: Promise<readonly Outcome[]>;
  /** When the thread started the run (epoch ms); undefined while it has not. */
  readonly startedAt: () => number | undefined;
  /** Asks the handler to stop: its `message.signal` aborts. A run that has not started never will. */
  abort(reason: string): void;
  /**
   * Ends the thread running this run (a handler that ignored its signal, or blocks its event loop). Other
   * runs on that thread die with it; piscina starts a replacement. False if the run has not started.
   */
  terminateThread(): Promise<boolean>;
}

/** Runs waiting for a result that may come before their task's, by run id. */
export class EarlyResults {
  readonly #waiting = new Map<number, (result: RunResult) => void>();

  expect(runId: number, settle: (result: RunResult) => void): void {
    this.#waiting.set(runId, settle);
  }

  forget(runId: number): void {
    this.#waiting.delete(runId);
  }

  /** Results a thread reported ahead of their task's. */
  deliver(results: EarlyRunResults): void {
    for (const [runId, result] of results) this.#waiting.get(runId)?.(result);
  }
}

/** What a run needs from its pool. */
export interface RunContext {
  readonly slots: RunSlots;
  readonly early: EarlyResults;
  readonly channel: ChannelEndpoint<SupervisorServices, ThreadServices>;
  /** The live thread with this id, if any. */
  readonly thread: (threadId: number) => Worker | undefined;
}

/** The supervisor's view of run `run`, the `index`th of a task whose result is `result`. */
export function trackRun(
  run: HandlerRun,
  index: number,
  result: Promise<TaskResult>,
  pool: RunContext,
): RunningHandler {
  const { runId, slot } = run;
  let settledStart: number | undefined;
  let settled = false;
  // Read the slot's cells, then free it: it may be reused at once.
  const settle = (): number => {
    const cell = pool.slots.threadOf(slot);
    settledStart = pool.slots.startedAt(slot);
    settled = true;
    pool.slots.release(slot);
    pool.early.forget(runId);
    return cell;
  };
  const outcome = new Promise<readonly Outcome[]>((resolve, reject) => {
    const ended = (runResult: RunResult | undefined): void => {
      if (settled) return;
      settle();
      if (runResult === "notStarted" || runResult === undefined) {
        reject(new TaskNotStartedError(new Error("aborted before it began"), "aborted"));
      } else {
        resolve(runResult);
      }
    };
    pool.early.expect(runId, ended);
    result.then(
      (results) => ended(results[index]),
      (error: unknown) => {
        if (settled) return;
        // With tasksPerThread > 1, piscina queues tasks on a thread whose handler may be blocking it, and a
        // packed run may wait for a permit there; when that thread is ended, they fail without ever having
        // run. A broken thread marks the runs it refuses with its negated id.
        const cell = settle();
        // piscina rejects with the thread's error (an Error): passed on as it is.
        reject(cell > 0 ? (error as Error) : new TaskNotStartedError(error, cell < 0 ? "threadBroken" : "threadEnded"));
      },
    );
  });
  return {
    runId,
    outcome,
    startedAt: () => (settled ? settledStart : pool.slots.startedAt(slot)),
    abort(reason) {
      pool.channel.post({ type: "abort", runId, reason });
    },
    terminateThread: async () => {
      if (settled) return false;
      const thread = pool.thread(pool.slots.threadOf(slot));
      if (!thread) return false;
      await thread.terminate();
      return true;
    },
  };
}
