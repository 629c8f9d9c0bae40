import { DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "../logging.js";
import { Backoff, sleep } from "../util/backoff.js";
import { decodeTick } from "./tick-message.js";

/** The schedules queue's messages a receive takes at once: SQS's batch ceiling. */
const RECEIVE_BATCH = 10;

/** What the forwarder does with one tick; resolves when the schedule's message is on its queue. */
export type Forward = (schedule: string, tick: Date) => Promise<void>;

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
  readonly logger: Logger;
}

/**
 * The daemon's own consumer of the schedules queue: one long poll at a time, and for each tick message the
 * schedule's send, then the delete. A failed send leaves the message, which SQS shows again after the queue's
 * visibility timeout, to this daemon or another: forwarding is at-least-once. Messages of a schedule this
 * daemon does not know are left alone for a replica that does (during a rolling deploy that adds one).
 *
 * Lifecycle: {@link Forwarder.start} (idempotent), {@link Forwarder.stop} (memoized): no new receive; the
 * receive under way is awaited, or aborted with `abort`, and the forwards it brought finish.
 */
export class Forwarder {
  readonly #options: ForwarderOptions;
  readonly #abort = new AbortController();
  readonly #backoff: Backoff;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  /** Unknown schedules already warned about, so that a long rollout logs each once. */
  readonly #warnedUnknown = new Set<string>();

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.#backoff = new Backoff(options.errorBackoff);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

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
          }),
          { abortSignal: this.#abort.signal },
        );
        messages = result.Messages ?? [];
        this.#backoff.reset();
      } catch (error) {
        if (this.#stopping) return;
        const delayMs = this.#backoff.next();
        logger.warn("receive from the schedules queue failed; retrying", { error: String(error), delayMs });
        await sleep(delayMs, this.#abort.signal);
        continue;
      }
      await this.#forwardAll(messages);
    }
  }

  /**
   * One receive's messages, in order. A FIFO receive returns a group's messages in order; once one of a
   * schedule's ticks fails, its later ticks in the batch are left too, to come back after it.
   */
  async #forwardAll(messages: readonly Message[]): Promise<void> {
    const { queueUrl, logger } = this.#options;
    const failedSchedules = new Set<string>();
    for (const message of messages) {
      const tick = decodeTick(message.Body);
      if (!tick) {
        // Nothing but sqsd writes this queue; a message that is not a tick can never be forwarded.
        logger.error("the schedules queue held a message that is not a tick; deleting it", {
          messageId: message.MessageId,
        });
        await this.#delete(message).catch((error: unknown) =>
          logger.warn("deleting a message that is not a tick failed", { error: String(error) }),
        );
        continue;
      }
      if (!this.#options.knows(tick.schedule)) {
        if (!this.#warnedUnknown.has(tick.schedule)) {
          this.#warnedUnknown.add(tick.schedule);
          logger.warn("a tick of a schedule this daemon does not run; leaving it for a replica that does", {
            schedule: tick.schedule,
          });
        }
        continue;
      }
      if (failedSchedules.has(tick.schedule)) continue;
      try {
        await this.#options.forward(tick.schedule, tick.tick);
      } catch (error) {
        failedSchedules.add(tick.schedule);
        logger.error("forwarding a schedule tick failed; it is retried after the visibility timeout", {
          schedule: tick.schedule,
          tick: tick.tick.toISOString(),
          queueUrl,
          error: String(error),
        });
        continue;
      }
      await this.#delete(message).catch((error: unknown) => {
        // The target has its message; this tick message comes back and is forwarded again (at-least-once).
        logger.warn("deleting a forwarded tick failed; it may be forwarded again", {
          schedule: tick.schedule,
          tick: tick.tick.toISOString(),
          error: String(error),
        });
      });
    }
  }

  async #delete(message: Message): Promise<void> {
    await this.#options.client.send(
      new DeleteMessageCommand({ QueueUrl: this.#options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }
}
