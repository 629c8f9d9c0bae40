import { Backoff } from "../util/backoff.js";

/** How long the gate waits between probes while SQS cannot be reached. */
const PROBE_BACKOFF = { initialMs: 250, maxMs: 5_000 } as const;

/**
 * Lets one request probe SQS at a time while it cannot be reached. Without it, every batch of deletes and
 * visibility changes retries on its own schedule: the more messages the daemon holds (running and buffered,
 * each with a heartbeat), the more connection attempts an outage costs. With it, once a request failed for a
 * reason a retry can fix, the others wait; one probe goes out per backoff step (250 ms doubling to 5 s), and
 * the first success opens the gate for all.
 */
export class OutageGate {
  readonly #backoff = new Backoff(PROBE_BACKOFF);
  /** Set while SQS is failing: no request before this time (epoch ms). */
  #retryAt: number | undefined;
  #probing = false;
  readonly #waiters = new Set<() => void>();

  /** Whether SQS is failing now (the last request through the gate failed). */
  get failing(): boolean {
    return this.#retryAt !== undefined;
  }

  /**
   * Resolves when a request may go: at once while SQS answers; while it fails, when this caller is the next
   * probe. Resolves false, without passing, if `deadline` (epoch ms) comes first or `signal` aborts: a
   * drain's bounded flush sets its limit after callers began waiting, so it aborts them rather than wait
   * for a deadline they read earlier.
   */
  async enter(deadline: number = Number.POSITIVE_INFINITY, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.#retryAt === undefined) return true;
      const now = Date.now();
      if (now >= deadline || signal?.aborted) return false;
      if (!this.#probing && now >= this.#retryAt) {
        this.#probing = true;
        return true;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const until = Math.min(deadline, this.#probing ? deadline : (this.#retryAt ?? now));
        const timer = setTimeout(done, Math.max(0, Math.min(until - now, PROBE_BACKOFF.maxMs)));
        this.#waiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** A request through the gate was answered: SQS is reachable. */
  succeeded(): void {
    if (this.#retryAt === undefined && !this.#probing) return;
    this.#retryAt = undefined;
    this.#probing = false;
    this.#backoff.reset();
    this.#wakeAll();
  }

  /** A request through the gate failed for a reason a retry can fix: hold the others back a while. */
  failed(): void {
    const now = Date.now();
    // Requests sent together before the gate closed fail together: one backoff step for all of them.
    if (!this.#probing && this.#retryAt !== undefined && now < this.#retryAt) return;
    this.#probing = false;
    this.#retryAt = now + this.#backoff.next();
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
