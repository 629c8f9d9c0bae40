/**
 * The errors of the worker-thread pool: a thread that cannot start, a handler run that never started, and a
 * request between the supervisor and a thread that got no answer. Apart from errors.ts because only the pool
 * and the supervisor's settlement of its results raise or read them.
 */
import { errorSummary, SqsdError } from "./errors.js";

/** A pool thread could not load the receiver modules; the daemon stops rather than poll with a broken pool. */
export class WorkerStartError extends SqsdError {
  override readonly name = "WorkerStartError";
  readonly code = "SQSD_WORKER_START";
  readonly exitCode = 1;
}

/**
 * Why a handler run never started: `threadEnded`, it waited on a thread that was ended (a handler there blocked
 * or crashed it) or the pool closed; `threadBroken`, it landed on a thread that could not load the receiver
 * modules, which refuses every task; `aborted`, a drain stopped it while it waited for a permit in its thread.
 */
export type TaskNotStartedReason = "threadEnded" | "threadBroken" | "aborted";

const NOT_STARTED_WHY: Record<TaskNotStartedReason, string> = {
  threadEnded: "its thread ended before the handler began",
  threadBroken: "its thread could not load the receiver modules",
  aborted: "it was stopped while it waited for its thread",
};

/**
 * A handler run no thread ever began. Its messages were never handled, so they go back without counting as a
 * failure.
 */
export class TaskNotStartedError extends SqsdError {
  override readonly name = "TaskNotStartedError";
  readonly code = "SQSD_TASK_NOT_STARTED";
  readonly exitCode = 1;
  readonly reason: TaskNotStartedReason;
  /** The reason in words, for logs: `its thread ended before the handler began`. */
  readonly why: string;
  constructor(cause: unknown, reason: TaskNotStartedReason = "threadEnded") {
    super(`the run never started, ${NOT_STARTED_WHY[reason]}: ${errorSummary(cause)}`, { cause });
    this.reason = reason;
    this.why = NOT_STARTED_WHY[reason];
  }
}

/**
 * How a request between the supervisor and a pool thread came to nothing: `failed`, the service threw (or
 * none is registered under that name); `timeout`, no answer came in time; `closed`, either side left the
 * pool's channel first.
 */
export type PoolRequestFailure = "failed" | "timeout" | "closed";

/** A request on the pool's channel got no result; the service's own error, if it threw, is the `cause`. */
export class PoolRequestError extends SqsdError {
  override readonly name = "PoolRequestError";
  readonly code = "SQSD_POOL_REQUEST";
  readonly exitCode = 1;
  /** The requested service, e.g. `extendVisibility`. */
  readonly service: string;
  readonly failure: PoolRequestFailure;
  constructor(service: string, failure: PoolRequestFailure, detail: string, cause?: unknown) {
    super(`pool request ${service} ${detail}`, cause === undefined ? {} : { cause });
    this.service = service;
    this.failure = failure;
  }
}
