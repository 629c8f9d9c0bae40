import type { QueueLoad } from "./receive-room.js";

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
  /**
   * What SQS last reported of a queue: its visible count, when that was read, and since when the reads have
   * shown visible messages without a start in between. Undefined when nothing is known (no status reads).
   */
  readonly visible: (
    load: QueueLoad,
  ) => { readonly count: number; readonly asOf: number; readonly since: number } | undefined;
  /**
   * Whether a queue's poller waits on purpose now (an idle backoff, a crash backoff, the message limit): its
   * visible messages are expected to wait.
   */
  readonly holding: (queue: string) => boolean;
}

/**
 * The queues that had work and a free slot for longer than `stallSeconds` without starting any: buffered
 * messages that no free slot picked up (a scheduling fault), or messages SQS has kept reporting visible for
 * that long without a start, while nothing is buffered, a slot is free and the poller is not waiting on
 * purpose (its receives should have brought them: a long poll returns as soon as a message is there). FIFO
 * queues are judged by their buffer only: SQS counts a blocked group's messages as visible while it returns
 * none of them. /healthz and the watchdog act on them.
 */
export function findStarved(loads: readonly QueueLoad[], context: StarvationContext): StarvedQueue[] {
  const { now, limitMs } = context;
  const starved: StarvedQueue[] = [];
  for (const load of loads) {
    if (load.starvedSince !== undefined && now - load.starvedSince > limitMs) {
      starved.push({ queue: load.queue, waitingMs: now - load.starvedSince, evidence: "buffered" });
      continue;
    }
    if (load.fifo || !context.slotFree || load.buffered > 0 || context.holding(load.queue)) continue;
    const seen = context.visible(load);
    if (!seen || seen.count === 0) continue;
    const waitingSince = Math.max(seen.since, load.lastStartAt ?? 0, context.startedAt);
    const waitingMs = seen.asOf - waitingSince - context.waitMs;
    if (waitingMs > limitMs) starved.push({ queue: load.queue, waitingMs, evidence: "visible" });
  }
  return starved;
}
