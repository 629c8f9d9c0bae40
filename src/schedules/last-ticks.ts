import { ListQueueTagsCommand, TagQueueCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SqsRequestError } from "../errors.js";

/** Tag key prefix under which the schedules queue remembers each catch-up schedule's last forwarded tick. */
export const LAST_TICK_TAG_PREFIX = "sqsd:last-tick:";

/**
 * The last tick forwarded per schedule, kept as tags on the schedules queue itself: the one place every
 * replica can read, with nothing to deploy besides SQS. Only `catchUp: "latest"` schedules are recorded (one
 * TagQueue request per tick), because only they need to know at start-up whether the latest tick already
 * fired; SQS allows 50 tags a queue, so the config allows at most 40 such schedules.
 */
export class LastTicks {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(client: SQSClient, queueUrl: string) {
    this.#client = client;
    this.#queueUrl = queueUrl;
  }

  /** Every recorded tick, by schedule name. */
  async read(): Promise<Map<string, Date>> {
    let tags: Record<string, string>;
    try {
      tags = (await this.#client.send(new ListQueueTagsCommand({ QueueUrl: this.#queueUrl }))).Tags ?? {};
    } catch (error) {
      throw new SqsRequestError("ListQueueTags", error, { queueUrl: this.#queueUrl });
    }
    const ticks = new Map<string, Date>();
    for (const [key, value] of Object.entries(tags)) {
      const tick = new Date(value);
      if (key.startsWith(LAST_TICK_TAG_PREFIX) && !Number.isNaN(tick.getTime())) {
        ticks.set(key.slice(LAST_TICK_TAG_PREFIX.length), tick);
      }
    }
    return ticks;
  }

  /**
   * Records that a schedule's tick was forwarded. `signal` is the forward's own: a record still under way when
   * the forward's time is up is abandoned (the caller then warns that a restart may fire the tick again).
   */
  async record(schedule: string, tick: Date, signal: AbortSignal): Promise<void> {
    try {
      await this.#client.send(
        new TagQueueCommand({
          QueueUrl: this.#queueUrl,
          Tags: { [`${LAST_TICK_TAG_PREFIX}${schedule}`]: tick.toISOString() },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw new SqsRequestError("TagQueue", error, { queueUrl: this.#queueUrl });
    }
  }
}
