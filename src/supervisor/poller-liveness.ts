/**
 * One poller's liveness bookkeeping: when its receives began and last succeeded, its deliberate waits, and
 * how often the watchdog restarted it. It turns them into the silence that /healthz and the watchdog read.
 */
export class PollerLiveness {
  readonly #waitMs: number;
  /** Start times of the receives waiting on SQS now, by receive number (the queue counts them; these time them). */
  readonly #receiveStarts = new Map<number, number>();
  #receiveCount = 0;
  #lastPollAt: number | undefined;
  /** Last time the poller made progress: started, received, or finished a deliberate wait. */
  #lastProgressAt = Date.now();
  /**
   * When the first receive that failed since the last success began (epoch ms). From its start, not its end:
   * a hung receive that ends in a timeout keeps counting from when it hung.
   */
  #failingSince: number | undefined;
  /** Deliberate waits under way (buffer full, idle pause, crash hold); while any runs, silence is not a stall. */
  #waits = 0;
  #restarts = 0;

  constructor(waitTimeSeconds: number) {
    this.#waitMs = waitTimeSeconds * 1000;
  }

  /** When the last receive completed (with or without messages), as epoch milliseconds. */
  get lastPollAt(): number | undefined {
    return this.#lastPollAt;
  }

  /** How often the watchdog restarted this poller. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Whether a deliberate wait is under way. */
  get waiting(): boolean {
    return this.#waits > 0;
  }

  /** The poller started or resumed: its silence counts from now. */
  progressed(): void {
    this.#lastProgressAt = Date.now();
  }

  /** The watchdog restarted the poller. Not progress: silence still counts from the last real progress. */
  restarted(): void {
    this.#restarts += 1;
  }

  /** A receive began; returns its key for {@link PollerLiveness.receiveEnded}. */
  receiveBegan(): number {
    const key = ++this.#receiveCount;
    this.#receiveStarts.set(key, Date.now());
    return key;
  }

  /** A receive that began at `startedAt` returned, successfully or not. */
  receiveEnded(key: number): void {
    this.#receiveStarts.delete(key);
  }

  /** A receive succeeded: progress, and any run of failures is over. */
  succeeded(): void {
    this.#lastPollAt = Date.now();
    this.#lastProgressAt = this.#lastPollAt;
    this.#failingSince = undefined;
  }

  /** A receive that began at `startedAt` failed. */
  failed(startedAt: number): void {
    if (startedAt >= (this.#lastPollAt ?? 0)) this.#failingSince ??= startedAt;
  }

  /** Marks a deliberate wait, so health checks do not read it as a stall; progress resumes when it ends. */
  async onPurpose<T>(wait: Promise<T>): Promise<T> {
    this.#waits += 1;
    try {
      return await wait;
    } finally {
      this.#waits -= 1;
      this.#lastProgressAt = Date.now();
    }
  }

  /**
   * How long the poller has gone without progress beyond its long-poll wait, in ms, for a poller that is
   * `running` (0 otherwise, and while it waits on purpose). A receive that has not returned, or a run of failed
   * receives, makes it grow from when that receive began, whatever the poller does meanwhile.
   */
  silentMs(now: number, running: boolean): number {
    if (!running) return 0;
    const quietMs = this.#waits > 0 ? 0 : now - this.#lastProgressAt - this.#waitMs;
    const troubleSince = this.#troubleSince(now);
    const troubleMs = troubleSince === undefined ? 0 : now - troubleSince - this.#waitMs;
    return Math.max(0, quietMs, troubleMs);
  }

  /**
   * Since when receives have been failing or hanging (epoch ms): the start of the oldest receive still under
   * way, or of the first failed receive since the last success. A long poll returns within its wait, so one
   * older than that means trouble; undefined while neither holds.
   */
  #troubleSince(now: number): number | undefined {
    let since = this.#failingSince;
    const lastSuccessAt = this.#lastPollAt ?? 0;
    for (const startedAt of this.#receiveStarts.values()) {
      // Only receives that outlived their wait (one inside it is an ordinary long poll), and began after the
      // last success: one stuck connection while other receives succeed is the watchdog's to restart, not a
      // poller that cannot reach SQS.
      if (now - startedAt > this.#waitMs && startedAt >= lastSuccessAt) {
        since = Math.min(since ?? startedAt, startedAt);
      }
    }
    return since;
  }
}
