/**
 * What each schedule has done on this replica (ticks offered and forwarded, failures, the last of each), kept
 * in one place: the runner reports what happened, the status page and metrics read it.
 */

/** One schedule's counts on this replica. */
export interface ScheduleCounts {
  /** The last tick this replica saw come due and offered. */
  readonly lastTick: Date | undefined;
  /** The last tick this replica forwarded to the queue (another replica may have forwarded later ones). */
  readonly lastForwarded: Date | undefined;
  readonly offered: number;
  readonly forwarded: number;
  readonly forwardErrors: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Each schedule's {@link ScheduleCounts}, by name. */
export class ScheduleTally {
  readonly #byName = new Map<string, Mutable<ScheduleCounts>>();

  constructor(names: Iterable<string>) {
    for (const name of names) {
      this.#byName.set(name, {
        lastTick: undefined,
        lastForwarded: undefined,
        offered: 0,
        forwarded: 0,
        forwardErrors: 0,
      });
    }
  }

  /** A tick came due (or was caught up) and is being offered; the latest one seen is kept. */
  due(name: string, tick: Date): void {
    const counts = this.#counts(name);
    if (!counts.lastTick || tick > counts.lastTick) counts.lastTick = tick;
  }

  /** SQS took this replica's offer of a tick. */
  offered(name: string): void {
    this.#counts(name).offered += 1;
  }

  /** A tick's message is on the schedule's queue; true when it is the newest tick forwarded so far. */
  forwarded(name: string, tick: Date): boolean {
    const counts = this.#counts(name);
    counts.forwarded += 1;
    const newest = !counts.lastForwarded || tick > counts.lastForwarded;
    if (newest) counts.lastForwarded = tick;
    return newest;
  }

  /** A forward failed, or its tick was dropped without one. */
  forwardFailed(name: string): void {
    this.#counts(name).forwardErrors += 1;
  }

  /** The counts of one schedule. */
  of(name: string): ScheduleCounts {
    return this.#counts(name);
  }

  #counts(name: string): Mutable<ScheduleCounts> {
    const counts = this.#byName.get(name);
    if (!counts) throw new Error(`unknown schedule "${name}"`);
    return counts;
  }
}
