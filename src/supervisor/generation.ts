/**
 * A count of changes that waits are level-triggered on. A waiter reads {@link Generation.value}, checks its
 * condition, and if it does not hold, waits with {@link Generation.after} for any change since that read: a
 * change that landed in between resolves the wait at once, so no change can be missed (a one-shot event that
 * may already have fired can be). The owner of the state calls {@link Generation.advance} after every change.
 */
export class Generation {
  #value = 0;
  readonly #waiters = new Set<() => void>();

  /** The number of changes so far. */
  get value(): number {
    return this.#value;
  }

  /** Whether a wait is under way. */
  get waiting(): boolean {
    return this.#waiters.size > 0;
  }

  /** Something changed: every waiter re-checks its condition. */
  advance(): void {
    this.#value += 1;
    // Runs on every change of a queue's counts: with no waiter (the common case) it must cost nothing more.
    if (this.#waiters.size === 0) return;
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves once the value has moved past `seen`, or when `signal` aborts; at once if either holds. Never rejects. */
  after(seen: number, signal: AbortSignal): Promise<void> {
    if (this.#value !== seen || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
