import type { HandlerPool, RunningHandler, TaskRequest } from "../../src/pool/pool.js";
import type { Outcome } from "../../src/pool/protocol.js";

/** How the test ends a run. */
export type RunEnding = "ok" | "throw" | "restartLater" | "crash";

/** One handler run the supervisor posted, as the model pool holds it until the test ends it. */
export interface ModelRun {
  readonly runId: number;
  readonly queue: string;
  /** MessageIds of the run's messages. */
  readonly messageIds: readonly string[];
  readonly deliveryIds: readonly number[];
  /** FIFO group of each message ("" on a standard queue). */
  readonly groups: readonly string[];
  readonly startedAt: number;
  /** A hung run ignores the test's endings; only its signal (a drain's interrupt) or the pool's end stops it. */
  hung: boolean;
  ended: RunEnding | "aborted" | "crashed" | undefined;
  /** Ends the run as the test says; "crash" ends its thread under it. */
  readonly end: (ending: RunEnding | "aborted") => void;
  readonly crash: () => void;
}

const failedBy = (message: string): Outcome => ({
  kind: "failed",
  phase: "handler",
  error: { name: "Error", message, stack: undefined, code: undefined },
  durationMs: 5,
});

/**
 * A stand-in for the worker-thread pool whose runs the test ends: each run waits until the test finishes it
 * (ok), makes it throw, answers RestartLater, or lets it hang. A hung run stops only when its signal aborts
 * (a drain's interrupt; it then fails, as a handler that honours its signal does) or the pool is terminated.
 * It records every run, so invariants can look at what ran and in which order.
 */
export class ModelPool {
  readonly runs: ModelRun[] = [];
  /** Runs not ended yet. */
  readonly active = new Set<ModelRun>();
  /** Most runs active at once. */
  maxActive = 0;
  #lastRunId = 0;
  closed = false;
  /** The delay a RestartLater answer asks for, in seconds. */
  restartLaterSeconds = 2;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** This object typed as the pool the supervisor takes; it uses only what is implemented here. */
  asHandlerPool(): HandlerPool {
    return this as unknown as HandlerPool;
  }

  get maxRunsPerTask(): number {
    return 1;
  }

  runAll(request: TaskRequest): RunningHandler[] {
    return request.runs.map((run) => {
      const runId = ++this.#lastRunId;
      let resolve!: (outcomes: readonly Outcome[]) => void;
      let reject!: (error: unknown) => void;
      const outcome = new Promise<readonly Outcome[]>((res, rej) => ((resolve = res), (reject = rej)));
      const count = run.messages.length;
      const model: ModelRun = {
        runId,
        queue: request.fullName,
        messageIds: run.messages.map((message) => message.id),
        deliveryIds: run.messages.map((message) => message.deliveryId),
        groups: run.messages.map((message) => message.attributes["MessageGroupId"] ?? ""),
        startedAt: this.#now(),
        hung: false,
        ended: undefined,
        end: (ending) => {
          if (ending === "crash") return model.crash();
          if (model.ended) return;
          model.ended = ending;
          this.active.delete(model);
          const one: Outcome =
            ending === "ok"
              ? { kind: "ok", durationMs: 5 }
              : ending === "restartLater"
                ? { kind: "restartLater", delaySeconds: this.restartLaterSeconds, reason: "model", durationMs: 5 }
                : failedBy(ending === "aborted" ? "aborted by its signal" : "model: the handler threw");
          resolve(Array.from({ length: count }, () => one));
        },
        crash: () => {
          if (model.ended) return;
          model.ended = "crashed";
          this.active.delete(model);
          reject(new Error("model: the thread ended"));
        },
      };
      this.runs.push(model);
      this.active.add(model);
      this.maxActive = Math.max(this.maxActive, this.active.size);
      const handler: RunningHandler = {
        runId,
        outcome,
        startedAt: () => model.startedAt,
        abort: () => model.end("aborted"),
        terminateThread: async () => {
          model.crash();
          return true;
        },
      };
      return handler;
    });
  }

  /** Ends every run still going, as ended threads do. */
  terminate(): Promise<void> {
    for (const run of [...this.active]) run.crash();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Runs the test may end now (active and not hung), oldest first. */
  endable(): ModelRun[] {
    return [...this.active].filter((run) => !run.hung);
  }
}
