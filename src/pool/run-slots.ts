/**
 * The supervisor's side of the per-run cells it shares with the pool threads (see
 * `PoolWorkerData.threadMap` and `startTimes` in protocol.ts): which thread started a run and when.
 * Shared memory, so that the supervisor can read them while a handler blocks its thread's event loop. One slot
 * per run that may be unsettled at once; a run takes one when it is posted and gives it back when it settles.
 */

/** The run slots of one pool; the only owner of which slots are free. */
export class RunSlots {
  /** For `PoolWorkerData.threadMap`. */
  readonly threadMapBuffer: SharedArrayBuffer;
  /** For `PoolWorkerData.startTimes`. */
  readonly startTimesBuffer: SharedArrayBuffer;
  readonly #threadMap: Int32Array;
  readonly #startTimes: BigInt64Array;
  readonly #free: number[];

  constructor(count: number) {
    this.threadMapBuffer = new SharedArrayBuffer(count * Int32Array.BYTES_PER_ELEMENT);
    this.startTimesBuffer = new SharedArrayBuffer(count * BigInt64Array.BYTES_PER_ELEMENT);
    this.#threadMap = new Int32Array(this.threadMapBuffer);
    this.#startTimes = new BigInt64Array(this.startTimesBuffer);
    this.#free = Array.from({ length: count }, (_, slot) => count - 1 - slot);
  }

  /** A free slot, its cells cleared. Throws when every slot is taken: more runs than the pool can hold. */
  take(): number {
    const slot = this.#free.pop();
    if (slot === undefined) throw new Error("no free run slot: more runs than the pool can run at once");
    Atomics.store(this.#threadMap, slot, 0);
    Atomics.store(this.#startTimes, slot, 0n);
    return slot;
  }

  /** The slot's thread cell: the id of the thread that started the run, minus the id of one that refused it, or 0. */
  threadOf(slot: number): number {
    return Atomics.load(this.#threadMap, slot);
  }

  /** When the slot's run started (epoch ms), or undefined while it has not. */
  startedAt(slot: number): number | undefined {
    const started = Number(Atomics.load(this.#startTimes, slot));
    return started > 0 ? started : undefined;
  }

  /** Gives the slot back; it may be taken again at once, so read its cells first. */
  release(slot: number): void {
    this.#free.push(slot);
  }
}
