/**
 * Hands out in-flight slots to pollers. A poller reserves slots before a receive and asks SQS for at most
 * that many messages, so nothing received ever waits in a local buffer while its visibility timeout runs.
 *
 * Three limits apply at once: the global in-flight limit, an optional per-queue limit (the receiver's
 * `concurrency`), and an optional budget of messages still to take (`--message-limit`). Waiting pollers are
 * served in arrival order, and while other queues wait each grant is capped at a fair share of the free slots,
 * so a busy queue cannot starve the rest.
 *
 * When fewer slots are free than a poller wants, the grant waits up to `gatherMs` for more to free up. Under
 * load slots free up a few at a time, and granting each one at once would turn every receive (and the delete
 * batch behind it) into a request for one or two messages: the same work at several times the SQS bill.
 */
export class Capacity {
  readonly #total: number;
  #inUse = 0;
  #budget: number;
  readonly #perQueueLimit = new Map<string, number>();
  readonly #perQueueInUse = new Map<string, number>();
  readonly #waiters: Waiter[] = [];
  readonly #gatherMs: number;

  /**
   * @param total - global in-flight limit
   * @param options.budget - how many messages may be taken in all (reserved slots count until refunded) @defaultValue Infinity
   * @param options.gatherMs - how long a partial grant may wait for more slots @defaultValue 20
   */
  constructor(total: number, options: { budget?: number | undefined; gatherMs?: number } = {}) {
    this.#total = total;
    this.#budget = options.budget ?? Number.POSITIVE_INFINITY;
    this.#gatherMs = options.gatherMs ?? 20;
  }

  /** Caps one queue's in-flight messages. */
  limitQueue(key: string, limit: number): void {
    this.#perQueueLimit.set(key, limit);
  }

  /** Slots held now, across all queues. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Messages that may still be taken under the budget. */
  get budgetLeft(): number {
    return this.#budget;
  }

  /** Slots held by one queue. */
  inUseBy(key: string): number {
    return this.#perQueueInUse.get(key) ?? 0;
  }

  /**
   * Waits until at least one slot is free for `key`, then reserves between 1 and `want` slots. Rejects with
   * the signal's reason if it aborts first.
   */
  acquire(key: string, want: number, signal: AbortSignal): Promise<number> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        key,
        want: Math.max(1, want),
        gatherTimer: undefined,
        gathered: false,
        grant: (granted) => {
          clearTimeout(waiter.gatherTimer);
          signal.removeEventListener("abort", onAbort);
          resolve(granted);
        },
      };
      const onAbort = (): void => {
        clearTimeout(waiter.gatherTimer);
        const index = this.#waiters.indexOf(waiter);
        if (index !== -1) this.#waiters.splice(index, 1);
        reject(signal.reason as Error);
        // A waiter that leaves may have been what held others back from a larger share.
        this.#serve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#serve();
    });
  }

  /** Returns reserved slots that no message used (the receive brought fewer than asked), budget included. */
  refund(key: string, count: number): void {
    if (count <= 0) return;
    this.#budget += count;
    this.#return(key, count);
  }

  /** Returns the slots of finished messages. Their budget stays spent. */
  release(key: string, count = 1): void {
    if (count <= 0) return;
    this.#return(key, count);
  }

  #return(key: string, count: number): void {
    this.#inUse -= count;
    this.#perQueueInUse.set(key, this.inUseBy(key) - count);
    this.#serve();
  }

  #freeFor(key: string): number {
    const queueLimit = this.#perQueueLimit.get(key) ?? Number.POSITIVE_INFINITY;
    return Math.min(this.#total - this.#inUse, queueLimit - this.inUseBy(key), this.#budget);
  }

  #serve(): void {
    for (let index = 0; index < this.#waiters.length;) {
      const waiter = this.#waiters[index];
      if (waiter === undefined) break;
      const free = this.#freeFor(waiter.key);
      if (free < 1) {
        // This queue (or everything) is full; later waiters of other queues may still fit.
        index += 1;
        continue;
      }
      // Queues, not waiters, share the free slots: several receives of one busy queue must not split its
      // share into small batches. Only queues that could be served now compete; one held back by its own
      // limit must not shrink everyone else's share.
      const competing = new Set(
        this.#waiters.filter((other) => this.#freeFor(other.key) >= 1).map((other) => other.key),
      );
      const fairShare = Math.max(1, Math.floor((this.#total - this.#inUse) / competing.size));
      const granted = Math.min(waiter.want, free, fairShare);
      // What this waiter could get once enough slots are free: the gather wait is only worth it below that.
      const attainable = Math.min(
        waiter.want,
        this.#perQueueLimit.get(waiter.key) ?? Number.POSITIVE_INFINITY,
        this.#budget,
        Math.max(1, Math.floor(this.#total / competing.size)),
      );
      if (granted < attainable && !waiter.gathered) {
        // Hold the free slots for this waiter a moment while more free up; later waiters wait their turn.
        waiter.gatherTimer ??= setTimeout(() => {
          waiter.gathered = true;
          this.#serve();
        }, this.#gatherMs);
        break;
      }
      this.#waiters.splice(index, 1);
      this.#inUse += granted;
      this.#budget -= granted;
      this.#perQueueInUse.set(waiter.key, this.inUseBy(waiter.key) + granted);
      waiter.grant(granted);
    }
  }
}

interface Waiter {
  readonly key: string;
  readonly want: number;
  /** Running while the waiter holds out for more slots than are free. */
  gatherTimer: NodeJS.Timeout | undefined;
  /** Set when the gather time is up: the waiter then takes what is free. */
  gathered: boolean;
  readonly grant: (granted: number) => void;
}
