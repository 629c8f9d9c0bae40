/**
 * A batch handler's moment of waiting for free slots to fill a batch. Slots free up a few at a time under
 * load; a short wait (`gatherMs`) fills the batch instead of splitting it, and the scheduler keeps the freed
 * slots for the queue meanwhile (an early version gave them to other queues, so batches shrank to one).
 */
export class BatchGather {
  readonly #gatherMs: number;
  /** Called when the wait is over: the scheduler then starts what there is. */
  readonly #gathered: () => void;
  #timer: NodeJS.Timeout | undefined;
  #over = false;

  constructor(gatherMs: number, gathered: () => void) {
    this.#gatherMs = gatherMs;
    this.#gathered = gathered;
  }

  /**
   * Whether a batch of `limit` (what the free slots allow) waits for more, when `wanted` is the most this
   * queue could get at once: only below that, and only until the wait is over.
   */
  waits(limit: number, wanted: number): boolean {
    if (this.#over || limit >= wanted) return false;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#over = true;
      this.#gathered();
    }, this.#gatherMs);
    return true;
  }

  /** A batch started: the next one gathers afresh. */
  reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#over = false;
  }
}
