import type { Clock, ClockTimer } from "../../src/util/clock.js";

interface PendingTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when the test says so. Timers fire in the order they are due (ties in the order
 * they were set) while {@link FakeClock.advance} walks time forward; {@link FakeClock.live} counts the timers
 * still set, which is how the model tests see that a component owns no more timers than it should.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 0;
  readonly #timers = new Map<number, PendingTimer>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const id = ++this.#nextId;
    this.#timers.set(id, { id, due: this.#now + Math.max(0, ms), callback });
    return { id } as unknown as ClockTimer;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (timer !== undefined) this.#timers.delete((timer as unknown as { id: number }).id);
  }

  /** Timers set and neither fired nor cleared. */
  get live(): number {
    return this.#timers.size;
  }

  /** When the next timer is due, if any is set. */
  get nextDue(): number | undefined {
    let due: number | undefined;
    for (const timer of this.#timers.values()) due = Math.min(due ?? timer.due, timer.due);
    return due;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, each at its own time, and
   * letting the promise jobs each one starts run before the next fires.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      const next = [...this.#timers.values()]
        .filter((timer) => timer.due <= end)
        .sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.due);
      next.callback();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets every promise job that is ready run (several turns, for chains of awaits). */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn += 1) await Promise.resolve();
}
