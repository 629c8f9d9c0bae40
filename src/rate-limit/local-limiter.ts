import { systemClock, type Clock } from "../util/clock.js";
import { nextNotification } from "../util/notify.js";
import type { ReceiveLimiter } from "./receive-limiter.js";
import { TokenBucket } from "./token-bucket.js";

/**
 * A rate limit counted in this process: one {@link TokenBucket} for a registered queue, shared by the pollers
 * of all its suffixes. With several replicas, each has the whole limit (use `shared` to split it).
 */
export class LocalLimiter implements ReceiveLimiter {
  readonly perSecond: number;
  readonly burst: number;
  readonly shared = false;
  readonly #bucket: TokenBucket;
  readonly #clock: Clock;
  /** Waits for a token, woken when a receive gives tokens back (the bucket may have been full of reservations). */
  readonly #settled = new Set<() => void>();
  /**
   * Whether the last receive came back empty. Then the next one reserves a single token: an idle suffix's
   * long poll must not hold the whole bucket, or a backlogged suffix of the same queue never gets a token
   * (the idle one asks again in the same turn as its empty answer, before the woken waiter runs).
   */
  #idle = false;

  constructor(perSecond: number, burst: number, clock: Clock = systemClock) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.#clock = clock;
    this.#bucket = new TokenBucket(perSecond, burst, clock.now());
  }

  reserve(max: number): number {
    return this.#bucket.reserve(this.#idle ? Math.min(max, 1) : max, this.#clock.now());
  }

  settle(reserved: number, received: number): void {
    this.#bucket.settle(reserved, received, this.#clock.now());
    // A receive that brought something is a backlog (of some suffix): the next one may ask for more.
    if (reserved > 0) this.#idle = received === 0;
    if (reserved > received) for (const wake of [...this.#settled]) wake();
  }

  async nextToken(signal: AbortSignal): Promise<void> {
    const ms = this.#bucket.msUntilToken(this.#clock.now());
    if (ms === 0 || signal.aborted) return;
    const waits = new AbortController();
    const abort = (): void => waits.abort();
    signal.addEventListener("abort", abort, { once: true });
    const timer = Number.isFinite(ms) ? this.#clock.setTimeout(abort, ms) : undefined;
    try {
      await nextNotification(this.#settled, waits.signal);
    } finally {
      this.#clock.clearTimeout(timer);
      signal.removeEventListener("abort", abort);
    }
  }

  async close(): Promise<void> {}
}
