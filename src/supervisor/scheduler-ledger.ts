import type { Message } from "@aws-sdk/client-sqs";
import type { Delivery } from "./delivery.js";

/**
 * What a queue (`Queue`: a PrefetchQueue) needs from the scheduler that owns it: the state across queues. The
 * Scheduler implements it; the queue never imports the scheduler, so the two stay one-way.
 */
export interface SchedulerLedger<Queue> {
  /** Paused or draining: nothing starts, and received messages go back. */
  readonly stopped: boolean;
  /** How long a batch handler's start may wait for more free slots. */
  readonly gatherMs: number;
  /** Pass of the last queue served: a queue that becomes ready starts no lower. */
  readonly virtualTime: number;
  /**
   * The most a receive may ask for by the terms that span queues: room under the global buffer ceiling (the
   * primary lane always gets one) and the message limit's budget (all of it for a primary lane, what no receive
   * under way has asked for for an extra one).
   */
  sharedLimit(primary: boolean): number;
  /** Whether a receive of `need` is held back by the terms across queues (or a pause or drain) now. */
  roomHeld(need: number, primary: boolean): boolean;
  /** Nudges `queue` once the terms across queues allow a receive of `need`. */
  watchRoom(queue: Queue, need: number, primary: boolean): void;
  /** `queue` has no wait for room left. */
  unwatchRoom(queue: Queue): void;
  /** Messages the message limit still lets in (received, not asked for); infinite without a limit. */
  budgetLeft(): number;
  /** Turns a received message into a delivery the scheduler tracks. */
  admit(queue: Queue, message: Message): Delivery;
  /** Hands free slots to buffered messages. */
  pump(): void;
  /** Gives deliveries back to SQS and finishes them. */
  release(deliveries: readonly Delivery[], why: string): void;
  /** This queue's counts changed: the scheduler re-reads them, and waits re-check their conditions. */
  changed(queue: Queue): void;
}
