import { SQS_LIMITS } from "../limits.js";

/** Runs one batch; resolves with one success flag per entry, in order. */
export type BatchExecutor<E> = (key: string, entries: readonly E[]) => Promise<readonly boolean[]>;

interface Pending<E> {
  readonly entry: E;
  readonly resolve: (succeeded: boolean) => void;
}

/**
 * Collects entries per key (a queue URL) and runs them as one batch request when 10 are waiting or `delayMs`
 * after the first arrived. SQS bills per request, so ten deletes in one request cost a tenth as much.
 */
export class Batcher<E> {
  readonly #execute: BatchExecutor<E>;
  readonly #delayMs: number;
  readonly #pending = new Map<string, { entries: Pending<E>[]; timer: NodeJS.Timeout }>();
  readonly #running = new Set<Promise<void>>();

  constructor(execute: BatchExecutor<E>, options: { delayMs: number }) {
    this.#execute = execute;
    this.#delayMs = options.delayMs;
  }

  /** Queues `entry`; resolves true once its batch succeeded for it, false once it finally failed. */
  add(key: string, entry: E): Promise<boolean> {
    return new Promise((resolve) => {
      let batch = this.#pending.get(key);
      if (!batch) {
        batch = { entries: [], timer: setTimeout(() => this.#run(key), this.#delayMs) };
        this.#pending.set(key, batch);
      }
      batch.entries.push({ entry, resolve });
      if (batch.entries.length >= SQS_LIMITS.maxBatchEntries) this.#run(key);
    });
  }

  /** Runs every waiting batch now and waits for all running ones. */
  async flush(): Promise<void> {
    for (const key of [...this.#pending.keys()]) this.#run(key);
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  #run(key: string): void {
    const batch = this.#pending.get(key);
    if (!batch) return;
    this.#pending.delete(key);
    clearTimeout(batch.timer);
    const { entries } = batch;
    const run = this.#execute(
      key,
      entries.map((pending) => pending.entry),
    ).then(
      (results) => entries.forEach((pending, index) => pending.resolve(results[index] === true)),
      // The executor owns retries and logging; a rejection here means it gave up on the whole batch.
      () => entries.forEach((pending) => pending.resolve(false)),
    );
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }
}
