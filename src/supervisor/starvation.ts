import type { QueueLoad } from "./scheduler.js";

/** A queue the stall check found starved. */
export interface StarvedQueue {
  readonly queue: string;
  /** How long it has had work and a free slot without a start, in ms. */
  readonly waitingMs: number;
  /** What showed it had work: messages in its buffer, or visible in SQS. */
  readonly evidence: "buffered" | "visible";
}

/** What the stall check reads besides each queue's load. */
export interface StarvationContext {
  readonly now: number;
  /** `stallSeconds`, in ms. */
  readonly limitMs: number;
  /** The long-poll wait, in ms: a receive may take this long to bring a message that is there. */
  readonly waitMs: number;
  /** Whether a pool slot is free now. */
  readonly slotFree: boolean;
  /** When polling started (epoch ms). */
  readonly startedAt: number;
  /** The last count of visible messages SQS reported for a queue, and when it was read. */
  readonly visible: (queue: string) => { readonly count: number; readonly asOf: number } | undefined;
  /** Whether a queue is held back on purpose (a crash backoff): not starved, however long it waits. */
  readonly holding: (queue: string) => boolean;
}

/**
 * The queues that had work and a free slot for longer than `stallSeconds` without starting any: buffered
 * messages that no free slot picked up (a scheduling fault), or messages SQS reported visible long after the
 * queue last started one, while nothing is buffered and a slot is free (its receives should have brought
 * them: a long poll returns as soon as a message is there). /healthz and the watchdog act on them.
 */
export function findStarved(loads: readonly QueueLoad[], context: StarvationContext): StarvedQueue[] {
  const { now, limitMs } = context;
  const starved: StarvedQueue[] = [];
  for (const load of loads) {
    if (context.holding(load.queue)) continue;
    if (load.starvedSince !== undefined && now - load.starvedSince > limitMs) {
      starved.push({ queue: load.queue, waitingMs: now - load.starvedSince, evidence: "buffered" });
      continue;
    }
    const seen = context.visible(load.queue);
    if (!seen || seen.count === 0 || !context.slotFree || load.buffered > 0) continue;
    const idleSince = Math.max(load.lastStartAt ?? 0, context.startedAt);
    const waitingMs = seen.asOf - idleSince - context.waitMs;
    if (waitingMs > limitMs) starved.push({ queue: load.queue, waitingMs, evidence: "visible" });
  }
  return starved;
}
