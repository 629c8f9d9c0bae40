import { systemClock, type Clock } from "../util/clock.js";
import type { ReceiveLimiter } from "./receive-limiter.js";

/** A queue's rate limit as `/status.json` shows it (each poller of the queue). */
export interface RateLimitStatus {
  /** The configured limit in tokens per second, when the queue has one. */
  readonly perSecond: number | undefined;
  readonly burst: number | undefined;
  /** Whether the limit is counted in a store shared by every replica. */
  readonly shared: boolean;
  /** Whether a receive of this queue waits now: for a token, or for a `RateLimited` pause to end. */
  readonly limited: boolean;
  /** When the pause a handler asked for with `RateLimited` ends (epoch ms), while it lasts. */
  readonly pausedUntil: number | undefined;
  /** Times a receive found no token and waited. */
  readonly waits: number;
}

/**
 * What a registered queue's receives pass before they are sent: its rate limit, when it has one, and the pause
 * a handler asks for by throwing `RateLimited`. Shared by the pollers of all the queue's suffixes. It gates
 * the receive, never a received message: a message waiting for a token would spend its visibility timeout and
 * its receive count.
 */
export class QueueGate {
  readonly #limiter: ReceiveLimiter | undefined;
  readonly #clock: Clock;
  #pausedUntil = 0;
  #waiting = 0;
  #waits = 0;

  constructor(limiter: ReceiveLimiter | undefined, clock: Clock = systemClock) {
    this.#limiter = limiter;
    this.#clock = clock;
  }

  /**
   * Tokens for a receive of up to `max` messages: `max` without a limit, 0 while paused or out of tokens, or
   * when `signal` (the poller's fetching) aborts while a shared store is asked.
   */
  reserve(max: number, signal?: AbortSignal): number | Promise<number> {
    if (this.#clock.now() < this.#pausedUntil) return 0;
    return this.#limiter === undefined ? max : this.#limiter.reserve(max, signal);
  }

  /** A receive that had `reserved` tokens brought `received` messages (0 when it failed). */
  settle(reserved: number, received: number): void {
    this.#limiter?.settle(reserved, received);
  }

  /** Waits, after a {@link QueueGate.reserve} of 0, until a receive may get a token; ends early on `signal`. */
  async ready(signal: AbortSignal): Promise<void> {
    this.#waiting += 1;
    this.#waits += 1;
    try {
      const pauseMs = this.#pausedUntil - this.#clock.now();
      if (pauseMs > 0) await sleepOn(this.#clock, pauseMs, signal);
      else await this.#limiter?.nextToken(signal);
    } finally {
      this.#waiting -= 1;
    }
  }

  /** A handler threw `RateLimited`: no receive for `seconds` (a longer pause already set stays). */
  pause(seconds: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + seconds * 1000);
  }

  status(): RateLimitStatus {
    const now = this.#clock.now();
    return {
      perSecond: this.#limiter?.perSecond,
      burst: this.#limiter?.burst,
      shared: this.#limiter?.shared ?? false,
      limited: this.#waiting > 0 || now < this.#pausedUntil,
      pausedUntil: now < this.#pausedUntil ? this.#pausedUntil : undefined,
      waits: this.#waits,
    };
  }

  async close(): Promise<void> {
    await this.#limiter?.close();
  }
}

function sleepOn(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clock.clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
