import type { Message } from "@aws-sdk/client-sqs";
import type { ResolvedBackoff } from "../config/types.js";
import { errorSummary, SqsRequestError } from "../errors.js";
import type { Logger } from "../logging.js";
import type { QueueGate, RateLimitStatus } from "../rate-limit/queue-gate.js";
import type { SqsHotPath } from "../sqs/hot-path.js";
import { sleep } from "../util/backoff.js";
import type { SupervisorEmitter } from "./events.js";
import { PollHolds } from "./poll-holds.js";
import { PollerLanes } from "./poller-lanes.js";
import { PollerLiveness } from "./poller-liveness.js";
import { ReceiveAsk } from "./receive-ask.js";
import type { ReceiveRoom } from "./receive-room.js";
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
  /** The queue's rate limit and `RateLimited` pauses, checked before each receive (src/rate-limit). */
  readonly gate?: QueueGate;
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
  /** The queue's rate limit and whether it holds receives back now. */
  readonly rateLimit?: RateLimitStatus | undefined;
}

/**
 * Long-polls one queue. A receive is waiting on SQS (the primary lane) whether or not a pool slot is free:
 * received messages wait in the scheduler's bounded buffer. The poller holds back only while the queue's
 * buffer is full, at the message limit, when paused, or in a backoff; and, while SQS has a backlog for it (the
 * last receive came back full), while it has room for less than a full receive and its buffer still holds
 * messages that can start: it is busy, not deaf, since what a receive would bring waits at SQS and starts after
 * those anyway. While the queue has a backlog it runs more receives at once ("lanes"), as far as the buffer has
 * room for full batches. An idle queue asks for its share of the buffer ceiling ({@link ReceiveRoom.idleWant}),
 * so a burst to it comes in one receive where the share allows.
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
  readonly #holds: PollHolds;
  readonly #liveness: PollerLiveness;
  readonly #lanes: PollerLanes;
  #stopping = false;
  /** Aborts every receive under way; see {@link Poller.abortReceives}. */
  readonly #receiving = new AbortController();
  #started = false;
  /** What to ask for next, and when to hold a smaller receive back. */
  readonly #ask: ReceiveAsk;
  #stopped: Promise<void> | undefined;

  constructor(options: PollerOptions) {
    this.#options = options;
    this.#holds = new PollHolds({
      queue: options.target.fullName,
      logger: options.logger,
      errorBackoff: options.errorBackoff,
      idleBackoff: options.idleBackoff,
    });
    this.#liveness = new PollerLiveness(options.waitTimeSeconds);
    const handler = options.target.queue.handler;
    this.#ask = new ReceiveAsk(handler?.kind === "batch" ? handler.batchSize : 1, options.room.idleWant);
    this.#lanes = new PollerLanes(
      (primary, signal) => this.#laneLoop(primary, signal),
      (error) =>
        options.logger.error("poller lane crashed", { queue: this.target.fullName, error: errorSummary(error) }),
    );
  }

  /** The queue this poller consumes. */
  get target(): PollTarget {
    return this.#options.target;
  }

  /** When the last receive completed (with or without messages), as epoch milliseconds. */
  get lastPollAt(): number | undefined {
    return this.#liveness.lastPollAt;
  }

  /** ReceiveMessage requests waiting on SQS now (the queue's own count). */
  get receivesUnderWay(): number {
    return this.#options.room.receivesUnderWay;
  }

  /** Whether fetching is paused (and not stopped). */
  get paused(): boolean {
    return this.#started && !this.#stopping && this.#lanes.halted;
  }

  /** The poller's state, as of `now`. */
  health(now = Date.now()): PollerHealth {
    const state = this.#stopping ? "stopped" : this.paused ? "paused" : "running";
    return {
      queue: this.target.fullName,
      state,
      lastPollAt: this.#liveness.lastPollAt,
      receivesUnderWay: this.receivesUnderWay,
      silentMs: this.#liveness.silentMs(now, state === "running"),
      consecutiveErrors: this.#holds.consecutiveErrors,
      restarts: this.#liveness.restarts,
      rateLimit: this.#options.gate?.status(),
    };
  }

  /**
   * The watchdog's remedy for a stalled poller: lanes stuck on a dead connection are left to end on their
   * request timeout, and a fresh lane takes over as the primary lane at once. The lane it replaces is an extra
   * lane from then on: when its receive returns it ends, with no idle pause or backoff of its own (which could
   * take a wake meant for the new lane). Its receive keeps the room's count it began with (the queue's one
   * message beyond the ceiling) until it returns. Silence is still measured from the last real progress, so a
   * restart does not make a stalled poller look healthy.
   */
  restart(): void {
    if (this.#stopping || this.paused) return;
    this.#liveness.restarted();
    this.#lanes.replacePrimary();
  }

  /**
   * Whether the poller holds receives back on purpose at `now`: a crash backoff, an idle backoff, or a wait
   * for buffer room or message-limit budget.
   */
  holding(now = Date.now()): boolean {
    return this.#holds.crashHoldMs(now) > 0 || this.#liveness.waiting;
  }

  /** A run of this queue settled: a handler that crashed its thread holds the queue back (see {@link PollHolds}). */
  settled(outcome: string, phase: string | undefined): void {
    this.#holds.settled(outcome, phase);
  }

  /** Starts polling. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#liveness.progressed();
    this.#lanes.add(true);
  }

  /** Stops fetching until {@link Poller.resume}; receives under way finish and their messages are processed. */
  pause(): void {
    this.#lanes.halt();
  }

  /** Restarts fetching after {@link Poller.pause}. */
  resume(): void {
    if (!this.paused) return;
    this.#liveness.progressed();
    this.#lanes.resume();
  }

  /** Ends an idle backoff pause now, so a new message is picked up at once. */
  wake(): void {
    this.#holds.wake();
  }

  /** Issues no new receive from now on; receives already waiting on SQS continue. */
  stopReceiving(): void {
    this.#stopping = true;
    this.#lanes.halt();
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
      await this.#lanes.ended();
    })();
    return this.#stopped;
  }

  async #laneLoop(token: symbol | undefined, signal: AbortSignal): Promise<void> {
    const { room } = this.#options;
    let fetching = signal;
    for (;;) {
      if (fetching.aborted) {
        const next = this.#lanes.carryOn(token);
        if (next === undefined) return;
        fetching = next;
      }
      const holdMs = this.#holds.crashHoldMs();
      if (holdMs > 0) {
        await this.#liveness.onPurpose(sleep(holdMs, fetching));
        continue;
      }
      // Read once per receive: the room's count of it begins and ends as the same kind of lane, even if a
      // watchdog restart demotes this lane while the receive waits.
      const primary = this.#lanes.isPrimary(token);
      // Read before the check: a change between the check and the wait then ends the wait at once.
      const generation = room.generation;
      const roomSize = room.receiveSize(this.#ask.want, primary);
      // Busy, not deaf: a full buffer, or under a backlog room for less than a full receive (ReceiveAsk.holds).
      const need = this.#ask.needs(room.waitingToStart);
      if (roomSize < need) {
        if (!primary) return;
        await this.#liveness.onPurpose(room.roomChanged(generation, need, primary, fetching));
        continue;
      }
      // A rate limit asks for no more than its tokens, and an empty bucket waits here, before any receive.
      const { gate } = this.#options;
      const reserved = gate === undefined ? roomSize : gate.reserve(roomSize, fetching);
      // Awaited only when the store answers later: an in-process answer keeps the receive in this turn.
      const size = typeof reserved === "number" ? reserved : await reserved;
      // While the store answered, a drain may have begun or the room shrunk: give the tokens back, look again.
      if (
        size > 0 &&
        typeof reserved !== "number" &&
        (fetching.aborted || room.receiveSize(this.#ask.want, primary) < size)
      ) {
        gate!.settle(size, 0);
        continue;
      }
      if (size === 0) {
        if (!primary) return;
        this.#options.events?.emit("receiveLimited", this.target.fullName);
        await this.#liveness.onPurpose(gate!.ready(fetching));
        continue;
      }
      room.beginReceive(size, primary);
      const wakesSeen = this.#holds.wakes;
      const receiveStartedAt = Date.now();
      let messages: readonly Message[];
      try {
        messages = await this.#receive(size);
      } catch (error) {
        this.#liveness.failed(receiveStartedAt);
        gate?.settle(size, 0);
        room.endReceive(size, primary, []);
        this.#options.events?.emit("pollError", this.target.fullName);
        // A lane demoted meanwhile ends here, like an extra one: the primary lane that replaced it backs off.
        if (!this.#lanes.isPrimary(token)) return;
        if (fetching.aborted) continue;
        const { kind, wait } = this.#holds.afterFailure(error, fetching);
        if (kind === "throttle") this.#ask.throttled();
        await wait;
        continue;
      }
      this.#liveness.succeeded();
      gate?.settle(size, messages.length);
      this.#holds.received(messages.length);
      if (messages.length > 0) this.#options.events?.emit("received", this.target.fullName, messages.length);
      room.endReceive(size, primary, messages);
      const full = messages.length === size;
      this.#ask.received(size, messages.length);
      if (messages.length === 0) {
        if (!this.#lanes.isPrimary(token)) return;
        const pause = this.#holds.idlePause(fetching, wakesSeen);
        if (pause) await this.#liveness.onPurpose(pause);
      } else {
        // A full batch suggests a backlog: another lane keeps more receives going while the buffer has room.
        const another =
          this.#lanes.count < this.#options.maxLanes && room.receiveSize(this.#ask.want, false) >= this.#ask.want;
        if (full && another && !fetching.aborted) this.#lanes.add(false);
      }
    }
  }

  async #receive(maxMessages: number): Promise<readonly Message[]> {
    const { target, sqs, waitTimeSeconds } = this.#options;
    const key = this.#liveness.receiveBegan();
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
      this.#liveness.receiveEnded(key);
    }
  }
}
