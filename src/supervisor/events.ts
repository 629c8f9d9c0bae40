import { EventEmitter } from "node:events";
import type { FailurePhase } from "../pool/protocol.js";

/** How a message's handler run ended, as metrics and logs count it. */
export type SettledAs = "ok" | "restartLater" | "failed" | "interrupted" | "notStarted";

/**
 * What the supervisor reports as it works, for metrics and anything else that wants to watch. Queue labels
 * are full queue names (`shop__thumbnails__big`).
 */
export interface SupervisorEvents {
  /** A receive brought `count` messages. */
  received: [queue: string, count: number];
  /**
   * A handler run ended for one message; `durationMs` is the handler's own time when it ran, `phase` where it
   * failed when it did.
   */
  settled: [queue: string, outcome: SettledAs, durationMs: number | undefined, phase: FailurePhase | undefined];
  /**
   * A handler run failed: its error's class and message (never the message body, nor the stack), for the
   * dashboard's "last error".
   */
  failed: [queue: string, error: { readonly name: string; readonly message: string }];
  /** A message was deleted from its queue. */
  deleted: [queue: string];
  /** A receive failed. */
  pollError: [queue: string];
  /**
   * An idempotent receiver's delivery was settled as a duplicate: its key had completed before, so it was
   * deleted without running the handler (it is settled as `ok` too).
   */
  duplicate: [queue: string];
  /** A handler threw `RateLimited`: the queue (all its suffixes) receives nothing for `retryAfterSeconds`. */
  rateLimited: [queue: string, retryAfterSeconds: number];
  /** A receive found no token of the queue's `rateLimit` (or a `RateLimited` pause) and waits. */
  receiveLimited: [queue: string];
  /** The watchdog restarted a stalled poller. */
  pollerRestarted: [queue: string];
  /** A handler run read a message's body from S3 (config `largePayloads`). */
  payloadReceived: [queue: string, bytes: number];
  /** A message's body could not be read from S3 (missing object, S3 unreachable): a decode failure. */
  payloadFetchFailed: [queue: string];
  /** Handlers of this daemon sent bodies through S3 (counted in the thread, reported with a run's outcome). */
  payloadsSent: [count: number, bytes: number];
  /** An offloaded body was deleted from S3 after its message (`deleteAfterProcessing`). */
  payloadDeleted: [queue: string];
  /** Deleting an offloaded body from S3 after its message failed; the object stays. */
  payloadDeleteFailed: [queue: string];
  /** A drain began: what runs beside the supervisor (the schedules) stops now too. */
  draining: [reason: string];
}

/** The supervisor's event emitter, typed. */
export class SupervisorEmitter extends EventEmitter<SupervisorEvents> {}
