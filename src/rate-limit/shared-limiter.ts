import { systemClock, type Clock } from "../util/clock.js";
import type { ReceiveLimiter } from "./receive-limiter.js";

/** The counter a {@link SharedLimiter} draws on: rate-limiter-flexible's fixed-window limiter in a store. */
export interface WindowCounter {
  /** Points per window. */
  readonly points: number;
  /**
   * Takes `points` of the current window; resolves with how many it got (the rest were past the window's
   * points and are given back) and the milliseconds left in the window.
   */
  take(points: number): Promise<{ readonly got: number; readonly msLeft: number }>;
  close(): Promise<void>;
}

/** What a {@link SharedLimiter} does when its store cannot be reached: it is told once per outage. */
export type StoreFailure = (error: unknown) => void;

/** How long a receive waits after the store failed before it asks again. */
const RETRY_AFTER_FAILURE_MS = 1_000;

/**
 * A rate limit that holds across every replica: tokens come out of a fixed-window counter in a shared store
 * (Redis), and each receive reserves only tokens this replica has taken from it, so no message is received
 * before a token allowed it, whatever the number of replicas.
 *
 * Tokens taken from a window are usable only while that window lasts (unused ones lapse with it, so a replica
 * cannot hoard a quiet window's tokens for a later burst), except those a receive under way holds: a long poll
 * keeps its reservation until it returns. So that an idle queue's 20 s long polls hold little, a receive after
 * an empty one reserves a single token; a full answer means a backlog, and the next receive asks for more.
 * The store failing closes the limit: the queue receives nothing until the store answers again.
 */
export class SharedLimiter implements ReceiveLimiter {
  readonly perSecond: number;
  readonly burst: number;
  readonly shared = true;
  readonly #counter: WindowCounter;
  readonly #clock: Clock;
  readonly #onFailure: StoreFailure;
  /** Tokens taken from the store and not reserved, usable until `#lapsesAt`. */
  #held = 0;
  #lapsesAt = 0;
  /** When to ask the store again after it gave nothing (the window's end) or failed. */
  #retryAt = 0;
  #idle = true;
  #failing = false;
  /** The take from the store under way, if any. */
  #taking: Promise<void> | undefined;

  constructor(counter: WindowCounter, perSecond: number, burst: number, onFailure: StoreFailure, clock = systemClock) {
    this.#counter = counter;
    this.perSecond = perSecond;
    this.burst = burst;
    this.#onFailure = onFailure;
    this.#clock = clock;
  }

  /** Resolves to 0 at once when `signal` aborts while the store has not answered (the take's tokens stay held). */
  async reserve(max: number, signal?: AbortSignal): Promise<number> {
    const want = Math.min(max, this.#idle ? 1 : this.#counter.points);
    if (this.#clock.now() >= this.#lapsesAt) this.#held = 0;
    if (this.#held < want && this.#clock.now() >= this.#retryAt) {
      // One take at a time: the receives that ask meanwhile share what it brings.
      this.#taking ??= this.#take(want - this.#held).finally(() => (this.#taking = undefined));
      await untilAborted(this.#taking, signal);
      if (signal?.aborted === true) return 0;
    }
    const granted = Math.min(want, this.#held);
    this.#held -= granted;
    return granted;
  }

  async #take(wanted: number): Promise<void> {
    try {
      const { got, msLeft } = await this.#counter.take(wanted);
      const now = this.#clock.now();
      if (now >= this.#lapsesAt) this.#held = 0;
      this.#held += got;
      this.#lapsesAt = now + msLeft;
      if (got === 0) this.#retryAt = now + msLeft;
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) this.#onFailure(error);
      this.#failing = true;
      this.#retryAt = this.#clock.now() + RETRY_AFTER_FAILURE_MS;
    }
  }

  settle(reserved: number, received: number): void {
    this.#idle = received === 0;
    // What a receive did not use goes back to this replica's hand while its window lasts.
    if (this.#clock.now() < this.#lapsesAt) this.#held += reserved - Math.min(reserved, received);
  }

  async nextToken(signal: AbortSignal): Promise<void> {
    const ms = Math.max(0, this.#retryAt - this.#clock.now());
    if (ms === 0 || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.#clock.clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  close(): Promise<void> {
    return this.#counter.close();
  }
}

/**
 * The fixed window a shared limit counts in: whole seconds (the store's expiry unit), long enough for `burst`
 * tokens, with as many points as the rate allows in it (at least 1).
 */
export function sharedWindow(perSecond: number, burst: number): { readonly seconds: number; readonly points: number } {
  const seconds = Math.max(1, Math.ceil(burst / perSecond));
  return { seconds, points: Math.max(1, Math.floor(perSecond * seconds)) };
}

/** Resolves when `work` does or when `signal` aborts, whichever is first. */
function untilAborted(work: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    void work.then(done);
  });
}
