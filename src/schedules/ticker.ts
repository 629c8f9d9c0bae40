import type { CronClock } from "../util/cron.js";

/**
 * The longest single timer: a timer longer than 2^31 - 1 ms fires at once in Node, and a yearly schedule's
 * next tick can be months away. Past this the ticker wakes, finds the tick still ahead, and sets another.
 */
const MAX_TIMER_MS = 6 * 60 * 60 * 1000;

/**
 * The most missed ticks of one schedule a late timer hands out at once: a `* * * * * *` schedule whose process
 * was frozen for the whole late limit would otherwise offer hundreds; the newest are kept.
 */
export const MAX_MISSED_TICKS = 10;

/** One schedule's clock, under its name. */
export interface TickerSchedule {
  readonly name: string;
  readonly clock: CronClock;
}

/** What the ticker needs. */
export interface TickerOptions {
  readonly schedules: readonly TickerSchedule[];
  /** Called once per schedule and tick time, when the wall clock reaches it. */
  readonly onTick: (name: string, tick: Date) => void;
  /**
   * How late (ms after its time, by this wall clock) a tick may still be handed out. Later ticks are dropped:
   * SQS deduplicates a tick for 5 minutes from the first copy, so a copy offered after that (from a process
   * that was suspended or frozen) would be a second message.
   */
  readonly lateLimitMs: number;
  /** Called when a late timer drops ticks: `oldest`..`newest` (and any between) are not handed out. */
  readonly onDropped?: (name: string, oldest: Date, newest: Date) => void;
  /** The wall clock, in epoch ms. @defaultValue `Date.now` */
  readonly now?: () => number;
}

/**
 * Calls `onTick` at each tick of each schedule. The next tick is computed from the wall clock every time, never
 * by adding an interval to the last one, so timers that fire late do not make the schedule drift, and a clock
 * that is corrected is followed. A timer that fires early (Node rounds) waits for the rest. One that fires late
 * (a blocked event loop, a stalled or suspended VM) hands out every tick that passed meanwhile and is still within
 * `lateLimitMs` (the newest {@link MAX_MISSED_TICKS}), oldest first, drops older ones through `onDropped`, and
 * goes on from the present: with one replica, or all stalled at once, no tick within the limit is lost, and
 * SQS's deduplication absorbs the copies other replicas offered. Timers are unref'd: the ticker never keeps the
 * process alive.
 *
 * Lifecycle: {@link Ticker.start} (idempotent), {@link Ticker.stop} (idempotent, final).
 */
export class Ticker {
  readonly #options: TickerOptions;
  readonly #now: () => number;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** The last tick handed out per schedule, so that none is handed out twice. */
  readonly #last = new Map<string, number>();
  #state: "idle" | "running" | "stopped" = "idle";

  constructor(options: TickerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Sets each schedule's first timer. `fromMs` (epoch ms, at most now) is where the first ticks are looked
   * for: the start-up catch-up passes the time it looked at, so that a tick falling between that look and
   * this call fires at once instead of falling between the two. @defaultValue now
   */
  start(fromMs?: number): void {
    if (this.#state !== "idle") return;
    this.#state = "running";
    for (const schedule of this.#options.schedules) this.#arm(schedule, fromMs);
  }

  /** Clears every timer; no tick is reported after this returns. */
  stop(): void {
    this.#state = "stopped";
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Records a tick handed out elsewhere (a catch-up at start-up), so that the timers never repeat it. */
  markHandedOut(name: string, tick: Date): void {
    this.#last.set(name, Math.max(this.#last.get(name) ?? 0, tick.getTime()));
  }

  /** The next tick the ticker will report for a schedule, when it is running. */
  nextTick(name: string): Date | undefined {
    const schedule = this.#options.schedules.find((candidate) => candidate.name === name);
    return schedule && this.#due(schedule);
  }

  #due(schedule: TickerSchedule, fromMs = this.#now()): Date | undefined {
    return schedule.clock.nextAfter(new Date(Math.max(fromMs, this.#last.get(schedule.name) ?? 0)));
  }

  #arm(schedule: TickerSchedule, fromMs?: number): void {
    if (this.#state !== "running") return;
    const tick = this.#due(schedule, fromMs);
    if (tick === undefined) return; // an expression whose dates have all passed
    const delayMs = Math.min(Math.max(0, tick.getTime() - this.#now()), MAX_TIMER_MS);
    const timer = setTimeout(() => this.#fire(schedule, tick), delayMs);
    timer.unref();
    this.#timers.set(schedule.name, timer);
  }

  #fire(schedule: TickerSchedule, armed: Date): void {
    if (this.#state !== "running") return;
    const nowMs = this.#now();
    if (nowMs >= armed.getTime()) this.#handOut(schedule, armed, nowMs);
    // Early (or a capped long wait): #arm finds the same tick still ahead and waits for the rest.
    this.#arm(schedule);
  }

  /** Hands out `armed` and every later tick up to now that is within the late limit; drops the rest. */
  #handOut(schedule: TickerSchedule, armed: Date, nowMs: number): void {
    const last = this.#last.get(schedule.name) ?? 0;
    const oldestAllowedMs = nowMs - this.#options.lateLimitMs;
    let droppedOldest = armed.getTime() > last && armed.getTime() < oldestAllowedMs ? armed : undefined;
    let droppedNewest = droppedOldest;
    // Look only from the oldest allowed time on: a long freeze must not walk millions of passed ticks.
    const fromMs = Math.max(last, armed.getTime() - 1, oldestAllowedMs - 1);
    const due: Date[] = [];
    for (
      let tick = schedule.clock.nextAfter(new Date(fromMs));
      tick !== undefined && tick.getTime() <= nowMs;
      tick = schedule.clock.nextAfter(tick)
    ) {
      due.push(tick);
    }
    if (droppedOldest) droppedNewest = schedule.clock.latestAtOrBefore(new Date(oldestAllowedMs - 1)) ?? armed;
    if (due.length > MAX_MISSED_TICKS) {
      const capped = due.splice(0, due.length - MAX_MISSED_TICKS);
      droppedOldest ??= capped[0];
      droppedNewest = capped[capped.length - 1];
    }
    if (droppedOldest && droppedNewest) this.#options.onDropped?.(schedule.name, droppedOldest, droppedNewest);
    const newest = due[due.length - 1] ?? droppedNewest;
    if (newest) this.#last.set(schedule.name, Math.max(last, newest.getTime()));
    for (const tick of due) this.#options.onTick(schedule.name, tick);
  }
}
