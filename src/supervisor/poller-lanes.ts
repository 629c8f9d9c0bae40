/** One lane's loop: `primary` is the lane's token when it began as the primary lane, undefined for an extra lane. */
export type LaneLoop = (primary: symbol | undefined, signal: AbortSignal) => Promise<void>;

/**
 * A poller's lanes: the loops that each keep one receive going on its queue. One is the primary lane, which
 * always listens; extra lanes run while the queue has a backlog and end with their first empty or held
 * receive. The lanes own the fetching signal (aborted on pause or stop, renewed on resume or a watchdog
 * restart) and which lane is primary, so a resume or a restart can never leave the queue with two primary
 * lanes or none.
 */
export class PollerLanes {
  readonly #loop: LaneLoop;
  readonly #crashed: (error: unknown) => void;
  /** Aborted on pause or stop: room waits and sleeps end; receives under way finish. */
  #fetching = new AbortController();
  /**
   * The primary lane that may carry on under a resume's new signal, until it ends. A resume while its receive
   * still waits on SQS lets it carry on rather than start a second primary lane: two would each take a message
   * past maxBuffered, and one's error backoff could outlive the other's success (model test counterexamples).
   */
  #primaryLane: symbol | undefined;
  readonly #running = new Set<Promise<void>>();

  /** `loop` runs each lane; `crashed` hears of a lane that threw. */
  constructor(loop: LaneLoop, crashed: (error: unknown) => void) {
    this.#loop = loop;
    this.#crashed = crashed;
  }

  /** Lanes running now. */
  get count(): number {
    return this.#running.size;
  }

  /** Whether fetching is stopped (paused or stopping) until {@link PollerLanes.resume}. */
  get halted(): boolean {
    return this.#fetching.signal.aborted;
  }

  /** Starts a lane under the current fetching signal; a primary one replaces the primary lane. */
  add(primary: boolean): void {
    const token = primary ? Symbol("primary lane") : undefined;
    if (token !== undefined) this.#primaryLane = token;
    const lane = this.#run(token, this.#fetching.signal).catch(this.#crashed);
    this.#running.add(lane);
    void lane.finally(() => this.#running.delete(lane));
  }

  /** Stops fetching: lanes end at their next check, receives under way finish. */
  halt(): void {
    this.#fetching.abort();
  }

  /** Fetches again after {@link PollerLanes.halt}: the primary lane carries on if its receive is still under way. */
  resume(): void {
    this.#fetching = new AbortController();
    if (this.#primaryLane === undefined) this.add(true);
  }

  /**
   * A watchdog restart: a fresh primary lane takes over at once, and the lane it replaces becomes an extra lane
   * (it ends when its stuck receive returns).
   */
  replacePrimary(): void {
    this.#fetching.abort();
    this.#fetching = new AbortController();
    this.add(true);
  }

  /**
   * The signal a primary lane carries on under after its own was aborted: the resume's, if the poller was
   * resumed and no restart replaced the lane meanwhile; otherwise undefined, and the lane ends.
   */
  carryOn(primary: symbol | undefined): AbortSignal | undefined {
    if (primary === undefined || this.#primaryLane !== primary) return undefined;
    if (this.#fetching.signal.aborted) {
      // Cleared here, not only when the lane's promise settles a few microtasks later: a resume in between
      // would otherwise count on this lane and start none, and the queue would not listen.
      this.#primaryLane = undefined;
      return undefined;
    }
    return this.#fetching.signal;
  }

  /** Whether the lane holding `token` is the primary lane now: a watchdog restart demotes the one it replaces. */
  isPrimary(token: symbol | undefined): boolean {
    return token !== undefined && this.#primaryLane === token;
  }

  /** Resolves once every lane has ended, those started meanwhile included. */
  async ended(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  async #run(primary: symbol | undefined, signal: AbortSignal): Promise<void> {
    try {
      await this.#loop(primary, signal);
    } finally {
      // A lane that crashed: a resume must start a new one.
      if (primary !== undefined && this.#primaryLane === primary) this.#primaryLane = undefined;
    }
  }
}
