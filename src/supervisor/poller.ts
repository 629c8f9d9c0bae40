import type { Message } from "@aws-sdk/client-sqs";
import type { ResolvedBackoff } from "../config/types.js";
import { errorSummary, SqsRequestError } from "../errors.js";
import { failureKind } from "../failure-kind.js";
import { SQS_LIMITS } from "../limits.js";
import type { Logger } from "../logging.js";
import type { SqsHotPath } from "../sqs/hot-path.js";
import { AUTH_BACKOFF, Backoff, sleep } from "../util/backoff.js";
import type { SupervisorEmitter } from "./events.js";
import type { ReceiveRoom } from "./scheduler.js";
import type { PollTarget } from "./target.js";

/** What a poller needs from the daemon. */
export interface PollerOptions {
  readonly target: PollTarget;
  /** The path receives take: its sockets are sized for one long poll per lane of every queue. */
  readonly sqs: SqsHotPath;
  /** This queue's side of the scheduler: how much to receive, and where received messages go. */
  readonly room: ReceiveRoom;
  readonly logger: Logger;
  readonly events?: SupervisorEmitter;
  readonly waitTimeSeconds: number;
  readonly errorBackoff: ResolvedBackoff;
  readonly idleBackoff: ResolvedBackoff | false;
  /** Concurrent receives at most; more than one only while the queue has a backlog and buffer room. */
  readonly maxLanes: number;
}

/** A poller's state, for health checks and status pages. */
export interface PollerHealth {
  readonly queue: string;
  readonly state: "running" | "paused" | "stopped";
  /** When the last receive completed, with or without messages (epoch ms). */
  readonly lastPollAt: number | undefined;
  readonly receivesUnderWay: number;
  /**
   * How long the poller has gone without progress beyond its long-poll wait, in ms: 0 while it makes progress
   * or waits on purpose (for buffer room, in an idle pause, paused). A receive that has not returned (a hung
   * connection, a frozen server) or a run of failed receives makes it grow from when that receive began,
   * whatever the poller does meanwhile: neither a deliberate wait nor a watchdog restart is progress. Only a
   * receive that succeeds is.
   */
  readonly silentMs: number;
  readonly consecutiveErrors: number;
  /** How often the watchdog restarted this poller. */
  readonly restarts: number;
}

/**
 * Long-polls one queue. A receive is waiting on SQS (the primary lane) whether or not a pool slot is free:
 * received messages wait in the scheduler's bounded buffer. The poller holds back only while the queue's
 * buffer has no room for a full receive and still holds messages that can start (they are waiting for
 * slots, so the queue is not starved), at the message limit, when paused, or in a backoff. While the queue has a backlog it runs more receives at once ("lanes"), as far as
 * the buffer has room for full batches.
 * Errors back off exponentially with jitter; an optional idle backoff spaces out empty polls, and
 * {@link Poller.wake} cuts it short. {@link Poller.pause} and {@link Poller.resume} stop and restart
 * fetching; messages already received are processed either way.
 *
 * Stopping never aborts a receive that is waiting on SQS. An aborted long poll can live on at the server and
 * take a message that becomes visible afterwards, which then stays invisible until its visibility timeout:
 * fauxqs behaves so, and SQS documents no guarantee otherwise. So a stopping poller issues no new receive
 * and waits for those under way to return (within the long-poll wait), handing back what they bring.
 */
export class Poller {
  readonly #options: PollerOptions;
  readonly #errorBackoff: Backoff;
  readonly #authBackoff = new Backoff(AUTH_BACKOFF);
  readonly #idleBackoff: Backoff | undefined;
  /** No receive before this time (epoch ms): set after handler-thread crashes. */
  #holdUntil = 0;
  #restarts = 0;
  /** Aborted on pause or stop: room waits and sleeps end; receives under way finish. */
  #fetching = new AbortController();
  #stopping = false;
  readonly #lanes = new Set<Promise<void>>();
  /** Start times of the receives waiting on SQS now, by receive number. */
  readonly #receivesUnderWay = new Map<number, number>();
  /** Aborts every receive under way; see {@link Poller.abortReceives}. */
  readonly #receiving = new AbortController();
  #receiveCount = 0;
  #started = false;
  /**
   * Messages to ask for next: 1 at start and after an empty receive, as many as came after a partial one,
   * double after a full one (up to 10). A waiting long poll reserves its size against the global buffer
   * ceiling, so idle queues reserve nothing beyond their one listening message, and busy queues get the room.
   */
  #want: number;
  /** A batch handler's batch size: asking for less would split its batches. */
  readonly #minWant: number;
  /** Ends the idle pause under way, if any. */
  #wake = new AbortController();
  /**
   * A wake came after the last receive began. It stays set until a receive begins, so a wake that lands while
   * an empty receive's answer is on its way back still cuts the pause that answer would start.
   */
  #woken = false;
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
  #stopped: Promise<void> | undefined;

  constructor(options: PollerOptions) {
    this.#options = options;
    this.#errorBackoff = new Backoff(options.errorBackoff);
    this.#idleBackoff = options.idleBackoff === false ? undefined : new Backoff(options.idleBackoff);
    const handler = options.target.queue.handler;
    this.#minWant = handler?.kind === "batch" ? handler.batchSize : 1;
    this.#want = this.#minWant;
  }

  /** The queue this poller consumes. */
  get target(): PollTarget {
    return this.#options.target;
  }

  /** When the last receive completed (with or without messages), as epoch milliseconds. */
  get lastPollAt(): number | undefined {
    return this.#lastPollAt;
  }

  /** ReceiveMessage requests waiting on SQS now. */
  get receivesUnderWay(): number {
    return this.#receivesUnderWay.size;
  }

  /** Whether fetching is paused (and not stopped). */
  get paused(): boolean {
    return this.#started && !this.#stopping && this.#fetching.signal.aborted;
  }

  /** The poller's state, as of `now`. */
  health(now = Date.now()): PollerHealth {
    const state = this.#stopping ? "stopped" : this.paused ? "paused" : "running";
    const waitingOnPurpose = state !== "running" || this.#waits > 0;
    const waitMs = this.#options.waitTimeSeconds * 1000;
    const quietMs = waitingOnPurpose ? 0 : now - this.#lastProgressAt - waitMs;
    const troubleSince = this.#troubleSince(now);
    const troubleMs = troubleSince === undefined ? 0 : now - troubleSince - waitMs;
    const silentMs = state === "running" ? Math.max(0, quietMs, troubleMs) : 0;
    return {
      queue: this.target.fullName,
      state,
      lastPollAt: this.#lastPollAt,
      receivesUnderWay: this.#receivesUnderWay.size,
      silentMs,
      consecutiveErrors: this.#errorBackoff.attempt + this.#authBackoff.attempt,
      restarts: this.#restarts,
    };
  }

  /**
   * The watchdog's remedy for a stalled poller: lanes stuck on a dead connection are left to end on their
   * request timeout, and a fresh lane takes over. Silence is still measured from the last real progress, so
   * a restart does not make a stalled poller look healthy.
   */
  restart(): void {
    if (this.#stopping || this.paused) return;
    this.#restarts += 1;
    this.#fetching.abort();
    this.#fetching = new AbortController();
    this.#addLane(true);
  }

  /**
   * Since when receives have been failing or hanging (epoch ms): the start of the oldest receive still under
   * way, or of the first failed receive since the last success. A long poll returns within its wait, so one
   * older than that means trouble; undefined while neither holds.
   */
  #troubleSince(now: number): number | undefined {
    let since = this.#failingSince;
    const lastSuccessAt = this.#lastPollAt ?? 0;
    for (const startedAt of this.#receivesUnderWay.values()) {
      // Only receives that outlived their wait (one inside it is an ordinary long poll), and began after the
      // last success: one stuck connection while other receives succeed is the watchdog's to restart, not a
      // poller that cannot reach SQS.
      if (now - startedAt > this.#options.waitTimeSeconds * 1000 && startedAt >= lastSuccessAt) {
        since = Math.min(since ?? startedAt, startedAt);
      }
    }
    return since;
  }

  /**
   * Whether the poller holds receives back on purpose at `now`: a crash backoff, an idle backoff, or a wait
   * for buffer room or message-limit budget.
   */
  holding(now = Date.now()): boolean {
    return this.#holdUntil > now || this.#waits > 0;
  }

  /** Issues no receive for `ms` (after handler threads crashed on this queue's messages). */
  holdOff(ms: number): void {
    this.#holdUntil = Math.max(this.#holdUntil, Date.now() + ms);
  }

  /** Starts polling. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lastProgressAt = Date.now();
    this.#addLane(true);
  }

  /** Stops fetching until {@link Poller.resume}; receives under way finish and their messages are processed. */
  pause(): void {
    this.#fetching.abort();
  }

  /** Restarts fetching after {@link Poller.pause}. */
  resume(): void {
    if (!this.paused) return;
    this.#fetching = new AbortController();
    this.#lastProgressAt = Date.now();
    this.#addLane(true);
  }

  /** Ends an idle backoff pause now, so a new message is picked up at once. */
  wake(): void {
    this.#woken = true;
    this.#wake.abort();
  }

  /** Issues no new receive from now on; receives already waiting on SQS continue. */
  stopReceiving(): void {
    this.#stopping = true;
    this.#fetching.abort();
  }

  /**
   * Ends the receives waiting on SQS now (config `drainPolls: "abort"`), on our side: the server may keep an
   * aborted long poll for the rest of its wait and hand it a message, which then stays hidden until its
   * visibility timeout.
   */
  abortReceives(): void {
    this.#receiving.abort(new Error("the drain aborted long polls under way"));
  }

  /**
   * Stops receiving and resolves when every lane has ended, which takes at most the long-poll wait (or the
   * client's request timeout, if the network is gone). Memoized.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.stopReceiving();
      while (this.#lanes.size > 0) await Promise.all(this.#lanes);
    })();
    return this.#stopped;
  }

  #addLane(primary: boolean): void {
    const lane = this.#runLane(primary, this.#fetching.signal).catch((error: unknown) => {
      this.#options.logger.error("poller lane crashed", { queue: this.target.fullName, error: errorSummary(error) });
    });
    this.#lanes.add(lane);
    void lane.finally(() => this.#lanes.delete(lane));
  }

  async #runLane(primary: boolean, fetching: AbortSignal): Promise<void> {
    const { room } = this.#options;
    while (!fetching.aborted) {
      const holdMs = this.#holdUntil - Date.now();
      if (holdMs > 0) {
        await this.#waitOnPurpose(sleep(holdMs, fetching));
        continue;
      }
      const size = room.receiveSize(this.#want, primary);
      // A receive smaller than wanted while buffered messages still wait would cost a request for a few
      // messages: wait for the buffer to drain instead. An empty buffer always gets its receive.
      if (size === 0 || (size < this.#want && room.waitingToStart > 0)) {
        if (!primary) return;
        await this.#waitOnPurpose(room.roomChanged(fetching));
        continue;
      }
      room.beginReceive(size, primary);
      // This receive sees whatever a wake announced before now.
      this.#woken = false;
      const receiveStartedAt = Date.now();
      let messages: readonly Message[];
      try {
        messages = await this.#receive(size);
      } catch (error) {
        if (receiveStartedAt >= (this.#lastPollAt ?? 0)) this.#failingSince ??= receiveStartedAt;
        room.endReceive(size, primary, []);
        this.#options.events?.emit("pollError", this.target.fullName);
        if (fetching.aborted || !primary) return;
        await this.#backOffAfter(error, fetching);
        continue;
      }
      this.#lastPollAt = Date.now();
      this.#lastProgressAt = this.#lastPollAt;
      this.#failingSince = undefined;
      this.#errorBackoff.reset();
      this.#authBackoff.reset();
      if (messages.length > 0) this.#options.events?.emit("received", this.target.fullName, messages.length);
      room.endReceive(size, primary, messages);
      const full = messages.length === size;
      this.#want = Math.max(
        this.#minWant,
        full ? Math.min(SQS_LIMITS.maxBatchEntries, size * 2) : Math.max(1, messages.length),
      );
      if (messages.length === 0) {
        if (!primary) return;
        await this.#idlePause(fetching);
      } else {
        this.#idleBackoff?.reset();
        // A full batch suggests a backlog: another lane keeps more receives going while the buffer has room.
        const another = this.#lanes.size < this.#options.maxLanes && room.receiveSize(this.#want, false) >= this.#want;
        if (full && another && !fetching.aborted) this.#addLane(false);
      }
    }
  }

  async #receive(maxMessages: number): Promise<readonly Message[]> {
    const { target, sqs, waitTimeSeconds } = this.#options;
    const key = ++this.#receiveCount;
    this.#receivesUnderWay.set(key, Date.now());
    try {
      const output = await sqs.receiveMessage(
        {
          QueueUrl: target.url,
          MaxNumberOfMessages: maxMessages,
          WaitTimeSeconds: waitTimeSeconds,
          VisibilityTimeout: target.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        },
        { abortSignal: this.#receiving.signal },
      );
      return output.Messages ?? [];
    } catch (error) {
      throw new SqsRequestError("ReceiveMessage", error, { queueUrl: target.url });
    } finally {
      this.#receivesUnderWay.delete(key);
    }
  }

  /**
   * Waits after a failed receive, by what failed: network faults and server errors back off exponentially with
   * jitter; throttling does too and also shrinks the next receives; refused credentials or permissions back
   * off far longer (and log as errors, once per attempt, not in a flood), since only a fix will help.
   */
  async #backOffAfter(error: unknown, fetching: AbortSignal): Promise<void> {
    const kind = failureKind(error);
    if (kind === "throttle") this.#want = this.#minWant;
    const backoff = kind === "auth" ? this.#authBackoff : this.#errorBackoff;
    const delayMs = backoff.next();
    const fields = {
      queue: this.target.fullName,
      failure: kind,
      attempt: backoff.attempt,
      retryInMs: delayMs,
      error: errorSummary(error),
    };
    if (kind === "auth") {
      this.#options.logger.error(
        "SQS refused the credentials or permissions; check them (sqs:ReceiveMessage on this queue)",
        fields,
      );
    } else if (kind === "throttle") {
      this.#options.logger.warn("SQS is throttling receives; slowing down", fields);
    } else {
      this.#options.logger.warn("receive failed; backing off", fields);
    }
    await sleep(delayMs, fetching);
  }

  async #idlePause(fetching: AbortSignal): Promise<void> {
    if (!this.#idleBackoff || this.#woken) return;
    this.#wake = new AbortController();
    await this.#waitOnPurpose(sleep(this.#idleBackoff.next(), AbortSignal.any([fetching, this.#wake.signal])));
  }

  /** Marks a deliberate wait, so health checks do not read it as a stall; progress resumes when it ends. */
  async #waitOnPurpose<T>(wait: Promise<T>): Promise<T> {
    this.#waits += 1;
    try {
      return await wait;
    } finally {
      this.#waits -= 1;
      this.#lastProgressAt = Date.now();
    }
  }
}
