import { mock } from "node:test";

/** The real timer functions, saved before {@link ModelTimers.install} replaces the global ones. */
const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
};

interface PendingTimer {
  readonly id: number;
  due: number;
  readonly callback: () => void;
  /** Set for an interval: it is due again this long after it fired. */
  readonly repeatMs: number | undefined;
}

/** What `setTimeout` returns under {@link ModelTimers}: enough of Node's Timeout for code that calls unref(). */
class ModelTimeout {
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
  unref(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

/**
 * Fake time for code that uses the global timers and `Date` (the supervisor and everything under it), one
 * timer at a time: {@link ModelTimers.advance} fires each timer that falls due at its own moment and lets the
 * promise jobs it starts run before the next one fires, as Node's event loop does. Node's `mock.timers.tick`
 * fires every due timer in one synchronous loop with no promise job in between, so a step would see orderings
 * the daemon never meets (a timer firing after the promise job that should have cleared it); `mock.timers`
 * still moves `Date`, so `Date.now()` and `new Date()` agree with this clock.
 *
 * `AbortSignal.timeout` cannot be faked: it keeps real time (the scheduler's drain wait uses it).
 */
export class ModelTimers {
  #now: number;
  #nextId = 0;
  readonly #timers = new Map<number, PendingTimer>();
  #installed = false;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  /** Epoch ms on the fake clock. */
  now(): number {
    return this.#now;
  }

  /** Timers set and neither fired nor cleared (intervals included). */
  get live(): number {
    return this.#timers.size;
  }

  /** Replaces the global timers and `Date` until {@link ModelTimers.uninstall}. */
  install(): void {
    if (this.#installed) return;
    this.#installed = true;
    mock.timers.enable({ apis: ["Date"], now: this.#now });
    const set = (repeat: boolean) =>
      ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
        const id = ++this.#nextId;
        const delay = Math.max(1, Number.isFinite(ms) ? Number(ms) : 1);
        this.#timers.set(id, {
          id,
          due: this.#now + delay,
          callback: () => callback(...args),
          repeatMs: repeat ? delay : undefined,
        });
        return new ModelTimeout(id);
      }) as unknown as typeof setTimeout;
    const clear = (timer: unknown): void => {
      if (timer instanceof ModelTimeout) this.#timers.delete(timer.id);
      else if (typeof timer === "number") this.#timers.delete(timer);
    };
    globalThis.setTimeout = set(false);
    globalThis.setInterval = set(true);
    globalThis.clearTimeout = clear;
    globalThis.clearInterval = clear;
  }

  /** Puts the real timers and `Date` back. Idempotent. */
  uninstall(): void {
    if (!this.#installed) return;
    this.#installed = false;
    Object.assign(globalThis, real);
    mock.timers.reset();
    this.#timers.clear();
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way at its own time (ties in the
   * order they were set), each followed by the promise jobs it started.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const timer of this.#timers.values()) {
        if (timer.due <= end && (!next || timer.due < next.due || (timer.due === next.due && timer.id < next.id))) {
          next = timer;
        }
      }
      if (!next) break;
      this.#moveTo(Math.max(this.#now, next.due));
      if (next.repeatMs === undefined) this.#timers.delete(next.id);
      else next.due = this.#now + next.repeatMs;
      next.callback();
      await settle();
    }
    this.#moveTo(end);
    await settle();
  }

  #moveTo(time: number): void {
    this.#now = time;
    mock.timers.setTime(time);
  }
}

/** Lets every promise job that is ready run (several turns, for chains of awaits). */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 40; turn += 1) await Promise.resolve();
}

/** Waits `ms` of real time (for `AbortSignal.timeout`, which fake time cannot reach). */
export function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => real.setTimeout(resolve, ms));
}
