/**
 * The clock a timed component runs on: the real one in the daemon, a fake one in the model tests, which
 * drive the component through random interleavings of time, replies and calls.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `callback` once after `ms`; the handle cancels it. */
  setTimeout(callback: () => void, ms: number): ClockTimer;
  /** Cancels a timer; a handle that already fired or was cancelled is ignored. */
  clearTimeout(timer: ClockTimer | undefined): void;
}

/** A timer handle, opaque to the component that set it. */
export type ClockTimer = { readonly __clockTimer: unique symbol } | NodeJS.Timeout;

/** The process's own clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};
