/**
 * One queue's receives waiting on SQS and what they asked for: the one count of them (the poller's health and
 * the scheduler's totals read it). A primary lane's first message is its own; the rest of what a receive asks
 * for is reserved against the global buffer ceiling while it waits.
 */
export class ReceivesUnderWay {
  #count = 0;
  #asked = 0;
  #askedBeyondFirst = 0;
  /** Of {@link ReceivesUnderWay.asked}, what receives begun by a primary lane asked. */
  #askedByPrimaries = 0;

  /** Receives waiting on SQS now. */
  get count(): number {
    return this.#count;
  }

  /** Messages they asked for. */
  get asked(): number {
    return this.#asked;
  }

  /** Messages they asked for beyond a primary lane's first: reserved under maxBuffered. */
  get askedBeyondFirst(): number {
    return this.#askedBeyondFirst;
  }

  /**
   * What a lane sizing its next receive counts as asked. A primary lane sizes its receive only when it has none
   * under way, so a receive begun by a primary lane that is still under way belongs to a lane a watchdog restart
   * demoted: stuck on a dead connection until its request times out. Counting its ask would leave the new
   * primary lane no room (with an idle ask of up to 10 and a prefetch of 10 or less, none at all) and the queue
   * deaf until then. What it may still bring is admitted when it returns, past the prefetch bound once per
   * restart, as past maxBuffered.
   */
  askedBefore(primary: boolean): number {
    return primary ? this.#asked - this.#askedByPrimaries : this.#asked;
  }

  /** A receive of `size` began. */
  begin(size: number, primary: boolean): void {
    this.#count += 1;
    this.#asked += size;
    if (primary) this.#askedByPrimaries += size;
    this.#askedBeyondFirst += primary ? size - 1 : size;
  }

  /** The receive of `size` that began as `primary` returned. */
  end(size: number, primary: boolean): void {
    this.#count -= 1;
    this.#asked -= size;
    if (primary) this.#askedByPrimaries -= size;
    this.#askedBeyondFirst -= primary ? size - 1 : size;
  }
}
