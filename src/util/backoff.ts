/**
 * The bounds of a {@link Backoff}. Declared here rather than taken from the config types so that this module
 * stays a leaf; the config's `ResolvedBackoff` has the same shape and is passed as is.
 */
export interface BackoffBounds {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * Backoff after SQS refused the credentials or permissions: no retry soon will fix that, so every long-lived
 * receive loop (the queues' pollers, the schedules' forwarder) waits this much longer than after a network
 * fault.
 */
export const AUTH_BACKOFF: BackoffBounds = { initialMs: 30_000, maxMs: 300_000 };

/**
 * Exponential backoff with "equal jitter": attempt n waits a random time in [c/2, c), where
 * c = min(max, initial × 2^n). The random half keeps replicas that failed together from retrying together;
 * the fixed half guarantees a real pause, so an outage never turns into a tight retry loop.
 */
export class Backoff {
  readonly #bounds: BackoffBounds;
  readonly #random: () => number;
  #attempt = 0;

  constructor(bounds: BackoffBounds, random: () => number = Math.random) {
    this.#bounds = bounds;
    this.#random = random;
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The ceiling for the next delay (before jitter). */
  get ceilingMs(): number {
    return Math.min(this.#bounds.maxMs, this.#bounds.initialMs * 2 ** Math.min(this.#attempt, 30));
  }

  /** The next delay, and counts an attempt. Never below 1 ms, so a retry loop always yields. */
  next(): number {
    const ceiling = this.ceilingMs;
    const delay = Math.max(1, Math.floor(ceiling / 2 + (this.#random() * ceiling) / 2));
    this.#attempt += 1;
    return delay;
  }

  /** Starts over after a success. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or early when `signal` aborts (without rejecting: the caller checks the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
