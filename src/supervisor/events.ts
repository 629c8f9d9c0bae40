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
  /** A message was deleted from its queue. */
  deleted: [queue: string];
  /** A receive failed. */
  pollError: [queue: string];
  /** The watchdog restarted a stalled poller. */
  pollerRestarted: [queue: string];
  /** A drain began: what runs beside the supervisor (the schedules) stops now too. */
  draining: [reason: string];
}

/** The supervisor's event emitter, typed. */
export class SupervisorEmitter extends EventEmitter<SupervisorEvents> {}
