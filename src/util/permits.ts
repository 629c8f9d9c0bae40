/**
 * A counting semaphore: at most `size` holders at once, later callers served first come, first served. A
 * caller whose signal aborts while it waits leaves the line without a permit.
 */
export class Permits {
  #free: number;
  readonly #waiting: { readonly grant: (granted: boolean) => void; readonly signal: AbortSignal | undefined }[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`permits must be a whole number ≥ 1, got ${size}`);
    this.#free = size;
  }

  /** Permits free now. */
  get free(): number {
    return this.#free;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves true once the caller holds a permit (pair it with one {@link Permits.release}), or false if
   * `signal` aborted first, in which case it holds none.
   */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.#free > 0 && this.#waiting.length === 0) {
      this.#free -= 1;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter = {
        signal,
        grant: (granted: boolean): void => {
          signal?.removeEventListener("abort", onAbort);
          resolve(granted);
        },
      };
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(waiter);
        if (index === -1) return;
        this.#waiting.splice(index, 1);
        waiter.grant(false);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Gives a held permit back: the first caller in line takes it. */
  release(): void {
    const next = this.#waiting.shift();
    if (next) next.grant(true);
    else this.#free += 1;
  }
}
