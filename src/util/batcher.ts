import { SQS_LIMITS } from "../limits.js";

/** Runs one batch; resolves with one result per entry, in order. */
export type BatchExecutor<E, R> = (key: string, entries: readonly E[]) => Promise<readonly R[]>;

interface Pending<E, R> {
  readonly entry: E;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/** How a {@link Batcher} forms batches. */
export interface BatcherOptions<E> {
  /** How long the first entry of a batch waits for others. */
  readonly delayMs: number;
  /** Size of an entry in bytes; with `maxBatchBytes`, a batch closes before it would grow past the limit. */
  readonly sizeOf?: (entry: E) => number;
  /** @defaultValue no limit */
  readonly maxBatchBytes?: number;
  /** Run one batch per key at a time, in order (FIFO queues). @defaultValue `false` */
  readonly serial?: boolean;
}

/**
 * Collects entries per key (a queue URL) and runs them as one batch request when 10 are waiting, when the
 * next would make the batch too large, or `delayMs` after the first arrived. SQS bills per request, so ten
 * entries in one request cost a tenth as much.
 */
export class Batcher<E, R> {
  readonly #execute: BatchExecutor<E, R>;
  readonly #options: BatcherOptions<E>;
  readonly #pending = new Map<string, { entries: Pending<E, R>[]; bytes: number; timer: NodeJS.Timeout }>();
  readonly #running = new Set<Promise<void>>();
  /** With `serial`, the last batch run per key: the next one starts after it. */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(execute: BatchExecutor<E, R>, options: BatcherOptions<E>) {
    this.#execute = execute;
    this.#options = options;
  }

  /** Queues `entry`; resolves with its result once its batch ran, or rejects if the whole batch failed. */
  add(key: string, entry: E): Promise<R> {
    return new Promise((resolve, reject) => {
      const bytes = this.#options.sizeOf?.(entry) ?? 0;
      let batch = this.#pending.get(key);
      if (batch && batch.bytes + bytes > (this.#options.maxBatchBytes ?? Number.POSITIVE_INFINITY)) {
        this.#run(key);
        batch = undefined;
      }
      if (!batch) {
        batch = { entries: [], bytes: 0, timer: setTimeout(() => this.#run(key), this.#options.delayMs) };
        this.#pending.set(key, batch);
      }
      batch.entries.push({ entry, resolve, reject });
      batch.bytes += bytes;
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
    const execute = async (): Promise<void> => {
      try {
        const results = await this.#execute(
          key,
          entries.map((pending) => pending.entry),
        );
        entries.forEach((pending, index) => pending.resolve(results[index] as R));
      } catch (error) {
        // The executor gave up on the whole batch: every entry gets its error.
        for (const pending of entries) pending.reject(error);
      }
    };
    let run: Promise<void>;
    if (this.#options.serial) {
      run = (this.#tails.get(key) ?? Promise.resolve()).then(execute);
      this.#tails.set(key, run);
      void run.finally(() => {
        if (this.#tails.get(key) === run) this.#tails.delete(key);
      });
    } else {
      run = execute();
    }
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }
}
