import type { Logger } from "../logging.js";
import type { SupervisorEmitter } from "./events.js";
import type { Poller } from "./poller.js";
import type { QueueLoad } from "./receive-room.js";
import { findStarved, type StarvedQueue } from "./starvation.js";

/**
 * How often the watchdog looks, as a share of `stallSeconds` and within bounds: each look reads every queue and
 * poller, which with 1,000 idle queues cost more than anything else an idle daemon does but its receives (about
 * 0.06 ms of CPU per receive at one look a second). A tenth of the limit keeps a restart within 10% of it.
 */
const CHECK_INTERVAL = { share: 0.1, minMs: 1_000, maxMs: 5_000 } as const;

/** The watchdog's interval for a `stallSeconds`: a tenth of it, between 1 and 5 s (5 s at the default 60). */
export function watchdogIntervalMs(stallSeconds: number): number {
  return Math.min(CHECK_INTERVAL.maxMs, Math.max(CHECK_INTERVAL.minMs, stallSeconds * 1000 * CHECK_INTERVAL.share));
}

/** What the watchdog reads of the supervisor; it changes nothing but by restarting pollers and pumping. */
export interface WatchdogOptions {
  readonly pollers: readonly Poller[];
  /** Each poller by its queue's full name. */
  readonly pollerOf: ReadonlyMap<string, Poller>;
  readonly scheduler: {
    loads(now: number): QueueLoad[];
    readonly running: number;
    pump(): void;
  };
  readonly stallSeconds: number;
  readonly waitTimeSeconds: number;
  readonly maxInFlight: number;
  /** Whether the supervisor is running (not starting, paused, draining or stopped): only then is a stall one. */
  readonly running: () => boolean;
  /** Whether a queue was paused on its own. */
  readonly queuePaused: (fullName: string) => boolean;
  /** The last known visible count of a queue and when it was read (from the status cache). @defaultValue unknown */
  readonly visibleMessages?:
    ((fullName: string) => { readonly count: number; readonly asOf: number } | undefined) | undefined;
  readonly logger: Logger;
  readonly events: SupervisorEmitter;
}

/**
 * The poll-liveness watchdog and the starvation check. Every {@link watchdogIntervalMs} (1 s for a
 * `stallSeconds` up to 10, 5 s at the default 60): a running poller silent for its
 * long-poll wait plus `stallSeconds` (a hung connection, or receives failing on and on), or whose queue
 * status reads have shown visible messages that long without a start, is logged, restarted and counted, at
 * most once per `stallSeconds`; buffered messages that waited that long with a slot free are logged as a
 * scheduling fault, and the scheduler is pumped. /healthz and the status pages read the same checks.
 */
export class Watchdog {
  readonly #options: WatchdogOptions;
  #timer: NodeJS.Timeout | undefined;
  /** When polling started (epoch ms). */
  #startedAt = 0;
  /** When the watchdog last restarted each poller. */
  readonly #lastRestart = new Map<Poller, number>();
  /** Per queue, the first status read that showed visible messages since the queue's last start. */
  readonly #firstSeenVisible = new Map<string, number>();

  constructor(options: WatchdogOptions) {
    this.#options = options;
  }

  /** Starts checking, every {@link watchdogIntervalMs}. */
  start(): void {
    this.#startedAt = Date.now();
    this.#timer = setInterval(() => this.#check(), watchdogIntervalMs(this.#options.stallSeconds));
    this.#timer.unref();
  }

  /** Stops checking (a drain began). */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** Queues that had work and a free slot for longer than `stallSeconds` without starting any. */
  starved(queues: readonly QueueLoad[], now: number): StarvedQueue[] {
    const options = this.#options;
    if (!options.running()) return [];
    return findStarved(queues, {
      now,
      limitMs: options.stallSeconds * 1000,
      waitMs: options.waitTimeSeconds * 1000,
      slotFree: options.scheduler.running < options.maxInFlight,
      startedAt: this.#startedAt,
      visible: (load) => this.#visibleSince(load, options.visibleMessages?.(load.queue)),
      holding: (queue) => options.queuePaused(queue) || (options.pollerOf.get(queue)?.holding(now) ?? false),
    });
  }

  #check(): void {
    const { logger, scheduler, pollers, events } = this.#options;
    const now = Date.now();
    const limitMs = this.#options.stallSeconds * 1000;
    const starved = this.starved(scheduler.loads(now), now);
    for (const queue of starved.filter((entry) => entry.evidence === "buffered")) {
      // Buffered work and a free slot: a scheduling fault no poller restart can mend. Say so, and pump.
      logger.error("buffered messages waited for a free slot past stallSeconds", { ...queue });
    }
    if (starved.some((entry) => entry.evidence === "buffered")) scheduler.pump();
    const visible = new Set(starved.filter((entry) => entry.evidence === "visible").map((entry) => entry.queue));
    for (const poller of pollers) {
      const health = poller.health(now);
      const stalled = health.silentMs > limitMs || visible.has(health.queue);
      if (!stalled || now - (this.#lastRestart.get(poller) ?? 0) < limitMs) continue;
      this.#lastRestart.set(poller, now);
      poller.restart();
      events.emit("pollerRestarted", health.queue);
      logger.warn("poller stalled; restarted it", {
        queue: health.queue,
        silentMs: health.silentMs,
        starved: visible.has(health.queue),
        lastPollAt: health.lastPollAt,
        restarts: health.restarts + 1,
      });
    }
  }

  /**
   * Since when status reads have shown a queue's messages visible (the first read that did, after the last
   * start): a message that arrived a moment ago is not evidence of a stall, however long the queue was idle.
   */
  #visibleSince(
    load: QueueLoad,
    seen: { readonly count: number; readonly asOf: number } | undefined,
  ): { count: number; asOf: number; since: number } | undefined {
    if (!seen || seen.count === 0) {
      this.#firstSeenVisible.delete(load.queue);
      return seen && { ...seen, since: seen.asOf };
    }
    let since = this.#firstSeenVisible.get(load.queue);
    if (since === undefined || since < (load.lastStartAt ?? 0)) {
      since = seen.asOf;
      this.#firstSeenVisible.set(load.queue, since);
    }
    return { ...seen, since };
  }
}
