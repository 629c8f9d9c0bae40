import type { ResolvedBackoff } from "../config/types.js";
import { errorSummary } from "../errors.js";
import { failureKind, type FailureKind } from "../failure-kind.js";
import type { Logger } from "../logging.js";
import { AUTH_BACKOFF, Backoff, sleep } from "../util/backoff.js";

/**
 * Pause of a queue after its handler crashed its thread, doubling while crashes continue. A handler that kills
 * every thread it touches then costs a thread every few seconds at most, instead of a respawn loop.
 */
const CRASH_BACKOFF = { initialMs: 1_000, maxMs: 60_000 } as const;

/** What the holds need to know about their poller. */
export interface PollHoldsOptions {
  /** The queue's full name, for log lines. */
  readonly queue: string;
  readonly logger: Logger;
  readonly errorBackoff: ResolvedBackoff;
  readonly idleBackoff: ResolvedBackoff | false;
}

/**
 * Why one poller issues no receive for a while, each of its deliberate holds in one place: a crash hold (after
 * a handler crashed its thread), an error backoff and an auth backoff (after failed receives), and an idle
 * backoff after empty receives (when configured), which a wake cuts short. A wake is sticky: one that lands
 * while an empty receive's answer is on its way back still cuts the pause that answer would start. Wakes are
 * counted, and each receive compares the count with the one it read as it began, so one lane's receive cannot
 * use up a wake another lane has not seen (a single shared flag could).
 */
export class PollHolds {
  readonly #options: PollHoldsOptions;
  readonly #errorBackoff: Backoff;
  readonly #authBackoff = new Backoff(AUTH_BACKOFF);
  readonly #idleBackoff: Backoff | undefined;
  readonly #crashBackoff = new Backoff(CRASH_BACKOFF);
  /** No receive before this time (epoch ms): set after handler-thread crashes. */
  #holdUntil = 0;
  /** Wakes so far: a receive that began at a lower count has a wake it has not seen. */
  #wakes = 0;
  /** One controller per idle pause under way: a wake ends them all, and no pause replaces another's. */
  readonly #pauses = new Set<AbortController>();
  /**
   * Aborted by a successful receive: ends every error or auth backoff under way, since the queue answers
   * again. Without it, a lane that failed slept its whole backoff after another lane's receive succeeded
   * and reset the error count, and the queue listened to nothing while its health showed no error (a
   * counterexample of the model test). Replaced at the next failure once aborted.
   */
  #recovered = new AbortController();

  constructor(options: PollHoldsOptions) {
    this.#options = options;
    this.#errorBackoff = new Backoff(options.errorBackoff);
    this.#idleBackoff = options.idleBackoff === false ? undefined : new Backoff(options.idleBackoff);
  }

  /** Failed receives since the last success. */
  get consecutiveErrors(): number {
    return this.#errorBackoff.attempt + this.#authBackoff.attempt;
  }

  /** How long the crash hold still lasts at `now`, in ms (0 or less when none). */
  crashHoldMs(now = Date.now()): number {
    return this.#holdUntil - now;
  }

  /**
   * A run of this queue settled. A handler that crashed its thread holds the queue's receives back (1 s,
   * doubling to 60 s while crashes continue, reset by a success).
   */
  settled(outcome: string, phase: string | undefined): void {
    // Runs for every message: the common case (no crash) must stay cheap.
    if (outcome === "ok") {
      if (this.#crashBackoff.attempt > 0) this.#crashBackoff.reset();
      return;
    }
    if (outcome !== "failed" || phase !== "crash") return;
    const holdMs = this.#crashBackoff.next();
    this.#holdUntil = Math.max(this.#holdUntil, Date.now() + holdMs);
    this.#options.logger.warn("a handler crashed its thread; holding this queue back", {
      queue: this.#options.queue,
      crashes: this.#crashBackoff.attempt,
      holdMs,
    });
  }

  /** Wakes so far. A lane reads it as its receive begins, and passes it to {@link PollHolds.idlePause}. */
  get wakes(): number {
    return this.#wakes;
  }

  /** A receive succeeded; `messages` is how many it brought. */
  received(messages: number): void {
    this.#errorBackoff.reset();
    this.#authBackoff.reset();
    // Only once: abort() builds its default DOMException reason (a stack trace) even when already aborted.
    if (!this.#recovered.signal.aborted) this.#recovered.abort();
    if (messages > 0) this.#idleBackoff?.reset();
  }

  /**
   * Waits after a failed receive, by what failed: network faults and server errors back off exponentially with
   * jitter; throttling does too (and the poller shrinks its receives); refused credentials or permissions back
   * off far longer (and log as errors, once per attempt, not in a flood), since only a fix will help. Returns
   * the kind of failure at once, and the wait as a promise.
   */
  afterFailure(error: unknown, signal: AbortSignal): { kind: FailureKind; wait: Promise<void> } {
    const kind = failureKind(error);
    const backoff = kind === "auth" ? this.#authBackoff : this.#errorBackoff;
    const delayMs = backoff.next();
    const fields = {
      queue: this.#options.queue,
      failure: kind,
      attempt: backoff.attempt,
      retryInMs: delayMs,
      error: errorSummary(error),
    };
    const { logger } = this.#options;
    if (kind === "auth") {
      logger.error("SQS refused the credentials or permissions; check them (sqs:ReceiveMessage on this queue)", fields);
    } else if (kind === "throttle") {
      logger.warn("SQS is throttling receives; slowing down", fields);
    } else {
      logger.warn("receive failed; backing off", fields);
    }
    if (this.#recovered.signal.aborted) this.#recovered = new AbortController();
    return { kind, wait: sleep(delayMs, AbortSignal.any([signal, this.#recovered.signal])) };
  }

  /**
   * After an empty receive that began when {@link PollHolds.wakes} read `wakesSeen`: the idle backoff's pause,
   * unless none is configured or a wake came since that receive began.
   */
  idlePause(signal: AbortSignal, wakesSeen: number): Promise<void> | undefined {
    if (!this.#idleBackoff || this.#wakes !== wakesSeen) return undefined;
    const wake = new AbortController();
    this.#pauses.add(wake);
    return sleep(this.#idleBackoff.next(), AbortSignal.any([signal, wake.signal])).finally(() =>
      this.#pauses.delete(wake),
    );
  }

  /** Ends every idle pause now, and the next one of each receive whose answer is on its way back. */
  wake(): void {
    this.#wakes += 1;
    for (const pause of this.#pauses) pause.abort();
    this.#pauses.clear();
  }
}
