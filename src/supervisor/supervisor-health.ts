import type { PollerHealth } from "./poller.js";
import type { QueueLoad } from "./receive-room.js";
import type { StarvedQueue } from "./starvation.js";

/** Why and how the supervisor stopped. */
export interface StopReport {
  readonly reason: string;
  /** 0 for a clean stop; 1 when a drain timed out or the pool broke. */
  readonly exitCode: 0 | 1;
  readonly processed: number;
  /** Handlers still running when the drain timed out; their messages were released. */
  readonly interrupted: number;
}

/** The supervisor's state, for health and readiness checks and status pages. */
export interface SupervisorHealth {
  readonly state: "starting" | "running" | "paused" | "draining" | "stopped";
  /** Messages running now. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Messages received and waiting for a slot, across all queues. */
  readonly buffered: number;
  readonly processed: number;
  readonly pollers: readonly PollerHealth[];
  /** Each queue's buffered and running messages. */
  readonly queues: readonly QueueLoad[];
  /** Queues that had work and a free slot for longer than `stallSeconds` without starting any. */
  readonly starved: readonly StarvedQueue[];
}
