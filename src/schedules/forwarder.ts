import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Logger } from "../logging.js";
import { AUTH_BACKOFF, Backoff, sleep } from "../util/backoff.js";
import { isPermanentForwardError } from "./permanent.js";
import { decodeTick } from "./tick-message.js";
import { errorSummary } from "../errors.js";
import { failureKind } from "../failure-kind.js";
import { ScheduleForwardTimeoutError } from "./errors.js";

/** The schedules queue's messages a receive takes at once: SQS's batch ceiling. */
const RECEIVE_BATCH = 10;
/**
 * How long one forward (the body function and the send) may take. Well under the schedules queue's 30 s
 * visibility timeout: past that, another daemon receives the same tick and forwards it again.
 */
export const FORWARD_TIMEOUT_MS = 10_000;
/**
 * A message received longer ago than this is not forwarded by this daemon: a forward started later could end
 * after the visibility timeout. It is left to come back (15 s + {@link FORWARD_TIMEOUT_MS} < 30 s).
 */
const FORWARD_START_LIMIT_MS = 15_000;
/**
 * A tick that sat on the schedules queue (from when it was offered, by SQS's SentTimestamp) longer than this is
 * dropped instead of forwarded: after an outage of its target, a schedule does not fire a backlog of stale
 * ticks. Ten minutes leaves some twenty 30-second retries for a passing failure.
 */
export const MAX_TICK_AGE_MS = 10 * 60 * 1000;
/** How soon a tick of a schedule this daemon does not run comes back for a replica that runs it. */
const UNKNOWN_SCHEDULE_VISIBILITY_SECONDS = 5;

/**
 * What the forwarder does with one tick; resolves when the schedule's message is on its queue. `signal` aborts
 * when the forward's time is up: the tick is then left for a retry, so the forward must not send after that.
 */
export type Forward = (schedule: string, tick: Date, signal: AbortSignal) => Promise<void>;

/** What the forwarder needs. */
export interface ForwarderOptions {
  /** For receives (a long poll holds its socket). */
  readonly receiveClient: SQSClient;
  /** For deletes. */
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly waitTimeSeconds: number;
  readonly errorBackoff: { readonly initialMs: number; readonly maxMs: number };
  /** Whether this daemon runs a schedule of that name (a replica with an older config may not). */
  readonly knows: (schedule: string) => boolean;
  readonly forward: Forward;
  /** Called when a tick is dropped without a forward (too old, or a failure that cannot succeed). */
  readonly onDropped: (schedule: string) => void;
  readonly logger: Logger;
  /** The wall clock, in epoch ms. @defaultValue `Date.now` */
  readonly now?: () => number;
}

/**
 * The daemon's own consumer of the schedules queue: one long poll at a time, and for each tick message the
 * schedule's send, then the delete. A failed send leaves the message, which SQS shows again after the queue's
 * visibility timeout, to this daemon or another: forwarding is at-least-once. A failure that cannot succeed
 * (see `isPermanentForwardError`) and a tick older than {@link MAX_TICK_AGE_MS} are deleted and counted as
 * failed instead. Each forward has {@link FORWARD_TIMEOUT_MS}. Messages of a schedule this daemon does not know
 * come back after a few seconds for a replica that does (during a rolling deploy that adds one).
 *
 * Lifecycle: {@link Forwarder.start} (idempotent), {@link Forwarder.stop} (memoized): no new receive; the
 * receive under way is awaited, or aborted with `abort`, and the forwards it brought finish.
 */
export class Forwarder {
  readonly #options: ForwarderOptions;
  readonly #abort = new AbortController();
  readonly #backoff: Backoff;
  readonly #authBackoff = new Backoff(AUTH_BACKOFF);
  readonly #now: () => number;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  /** Unknown schedules already warned about, so that a long rollout logs each once. */
  readonly #warnedUnknown = new Set<string>();

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.#backoff = new Backoff(options.errorBackoff);
    this.#now = options.now ?? Date.now;
  }

  /** Starts the receive loop. Idempotent. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops receiving; resolves when the receive under way (aborted when `abortReceive`) and the forwards it
   * brought have ended, each forward bounded by {@link FORWARD_TIMEOUT_MS}. Memoized.
   */
  stop(abortReceive: boolean): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      if (abortReceive) this.#abort.abort();
      await this.#loop;
    })();
    return this.#stopped;
  }

  async #run(): Promise<void> {
    const { receiveClient, queueUrl, waitTimeSeconds, logger } = this.#options;
    while (!this.#stopping) {
      let messages: Message[];
      try {
        const result = await receiveClient.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: RECEIVE_BATCH,
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ["SentTimestamp"],
          }),
          { abortSignal: this.#abort.signal },
        );
        messages = result.Messages ?? [];
        this.#backoff.reset();
        this.#authBackoff.reset();
      } catch (error) {
        if (this.#stopping) return;
        // Refused credentials or permissions: only a fix helps, so wait long and say so once per attempt, as
        // the queues' pollers do.
        const auth = failureKind(error) === "auth";
        const delayMs = (auth ? this.#authBackoff : this.#backoff).next();
        if (auth) {
          logger.error("SQS refused the credentials or permissions for the schedules queue (sqs:ReceiveMessage)", {
            error: errorSummary(error),
            delayMs,
          });
        } else {
          logger.warn("receive from the schedules queue failed; retrying", { error: errorSummary(error), delayMs });
        }
        await sleep(delayMs, this.#abort.signal);
        continue;
      }
      await this.#forwardAll(messages, this.#now());
    }
  }

  /**
   * One receive's messages, in order. A FIFO receive returns a group's messages in order; once one of a
   * schedule's ticks fails, its later ticks in the batch are left too, to come back after it.
   */
  async #forwardAll(messages: readonly Message[], receivedAtMs: number): Promise<void> {
    const { queueUrl, logger } = this.#options;
    const failedSchedules = new Set<string>();
    for (const message of messages) {
      const tick = decodeTick(message.Body);
      if (!tick) {
        // Nothing but sqsd writes this queue; a message that is not a tick can never be forwarded.
        logger.error("the schedules queue held a message that is not a tick; deleting it", {
          messageId: message.MessageId,
        });
        await this.#deleteQuietly(message, "a message that is not a tick");
        continue;
      }
      if (!this.#options.knows(tick.schedule)) {
        if (!this.#warnedUnknown.has(tick.schedule)) {
          this.#warnedUnknown.add(tick.schedule);
          logger.warn("a tick of a schedule this daemon does not run; leaving it for a replica that does", {
            schedule: tick.schedule,
          });
        }
        await this.#releaseSoon(message);
        continue;
      }
      if (failedSchedules.has(tick.schedule)) continue;
      // Received too long ago: a forward started now might end after the visibility timeout, when another
      // daemon may already have the same tick. Leave this and the rest; they come back.
      if (this.#now() - receivedAtMs > FORWARD_START_LIMIT_MS) return;
      const sentMs = Number(message.Attributes?.["SentTimestamp"]);
      if (Number.isFinite(sentMs) && this.#now() - sentMs > MAX_TICK_AGE_MS) {
        logger.error("a schedule tick waited too long to be forwarded; dropping it", {
          schedule: tick.schedule,
          tick: tick.tick.toISOString(),
          maxTickAgeMs: MAX_TICK_AGE_MS,
        });
        this.#options.onDropped(tick.schedule);
        await this.#deleteQuietly(message, "a stale tick");
        continue;
      }
      try {
        await this.#forwardWithin(tick.schedule, tick.tick);
      } catch (error) {
        if (isPermanentForwardError(error)) {
          logger.error("forwarding a schedule tick failed and cannot succeed; dropping the tick", {
            schedule: tick.schedule,
            tick: tick.tick.toISOString(),
            error: errorSummary(error),
          });
          await this.#deleteQuietly(message, "a tick that cannot be forwarded");
          continue;
        }
        failedSchedules.add(tick.schedule);
        logger.error("forwarding a schedule tick failed; it is retried after the visibility timeout", {
          schedule: tick.schedule,
          tick: tick.tick.toISOString(),
          queueUrl,
          error: errorSummary(error),
        });
        continue;
      }
      await this.#delete(message).catch((error: unknown) => {
        // The target has its message; this tick message comes back and is forwarded again (at-least-once).
        logger.warn("deleting a forwarded tick failed; it may be forwarded again", {
          schedule: tick.schedule,
          tick: tick.tick.toISOString(),
          error: errorSummary(error),
        });
      });
    }
  }

  /**
   * One forward, given up (left for a retry) after {@link FORWARD_TIMEOUT_MS}; a hung body function among them.
   * Giving up aborts the forward's signal, so one that resumes later does not send a tick that will be
   * forwarded again.
   */
  async #forwardWithin(schedule: string, tick: Date): Promise<void> {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new ScheduleForwardTimeoutError(schedule, FORWARD_TIMEOUT_MS)),
      FORWARD_TIMEOUT_MS,
    );
    const timedOut = new Promise<never>((_, reject) =>
      deadline.signal.addEventListener("abort", () => reject(deadline.signal.reason as Error), { once: true }),
    );
    try {
      await Promise.race([this.#options.forward(schedule, tick, deadline.signal), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #deleteQuietly(message: Message, what: string): Promise<void> {
    await this.#delete(message).catch((error: unknown) =>
      this.#options.logger.warn(`deleting ${what} failed`, { error: errorSummary(error) }),
    );
  }

  async #releaseSoon(message: Message): Promise<void> {
    await this.#options.client
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.#options.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: UNKNOWN_SCHEDULE_VISIBILITY_SECONDS,
        }),
        // Aborted only by a hard stop, which must not wait on SQS; the tick comes back after its visibility.
        { abortSignal: this.#abort.signal },
      )
      .catch((error: unknown) =>
        this.#options.logger.warn("could not release a tick of an unknown schedule", { error: errorSummary(error) }),
      );
  }

  async #delete(message: Message): Promise<void> {
    // Aborted only by a hard stop: the tick message then comes back and is forwarded again (at-least-once).
    await this.#options.client.send(
      new DeleteMessageCommand({ QueueUrl: this.#options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      { abortSignal: this.#abort.signal },
    );
  }
}
