/**
 * Offering a tick: every replica sends `{ schedule, tick }` to the FIFO schedules queue with the deduplication
 * id `schedule@tick`, and SQS keeps one copy for whichever daemon receives it (see docs/schedules.md).
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SqsRequestError } from "../errors.js";
import { failureKind, isRetryable } from "../failure-kind.js";
import type { Logger } from "../logging.js";
import { Backoff, sleep } from "../util/backoff.js";
import { encodeTick, tickDeduplicationId } from "./tick-message.js";

/**
 * How long after its time a replica keeps retrying to offer a tick. SQS deduplicates for 5 minutes from the
 * first copy it accepted; a copy offered later than that would be a second message. One minute is left for
 * replicas' clocks to differ.
 */
export const OFFER_DEADLINE_MS = 4 * 60 * 1000;
const OFFER_BACKOFF = { initialMs: 1_000, maxMs: 30_000 } as const;

/** Where and how ticks are offered. */
export interface TickOfferOptions {
  readonly client: SQSClient;
  /** The schedules queue's URL. */
  readonly queueUrl: string;
  readonly logger: Logger;
  /** The wall clock, in epoch ms. */
  readonly now: () => number;
  /** Aborted at stop: the request under way ends, and no retry follows. */
  readonly signal: AbortSignal;
}

/**
 * Offers one tick to the schedules queue, retrying while SQS's deduplication still covers it. Resolves true
 * once SQS took it, false when this replica gave up (a failure no retry fixes, too late, or stopped); it never
 * rejects, since other replicas offer the same tick.
 */
export async function offerTick(options: TickOfferOptions, name: string, tick: Date): Promise<boolean> {
  const { client, queueUrl, logger, now, signal } = options;
  const backoff = new Backoff(OFFER_BACKOFF);
  for (;;) {
    try {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: encodeTick(name, tick),
          MessageGroupId: name,
          MessageDeduplicationId: tickDeduplicationId(name, tick),
        }),
        // Stopping ends an offer under way: other replicas offer the same tick, and SQS keeps one copy.
        { abortSignal: signal },
      );
      return true;
    } catch (cause) {
      const error = new SqsRequestError("SendMessage", cause, { queueUrl });
      if (!isRetryable(error)) {
        // A missing queue or refused permissions fail the same way on every retry (the acker's rule too).
        logger.error(
          "could not offer a schedule tick, and a retry cannot help; check the schedules queue and sqs:SendMessage on it",
          {
            schedule: name,
            tick: tick.toISOString(),
            failure: failureKind(error),
            error: error.message,
          },
        );
        return false;
      }
      const late = now() - tick.getTime() > OFFER_DEADLINE_MS;
      if (late || signal.aborted) {
        // Other replicas offer the same tick; this one's copy is not needed unless all of them failed.
        logger.error("could not offer a schedule tick; other replicas may have", {
          schedule: name,
          tick: tick.toISOString(),
          error: error.message,
        });
        return false;
      }
      const delayMs = backoff.next();
      logger.warn("offering a schedule tick failed; retrying", {
        schedule: name,
        tick: tick.toISOString(),
        delayMs,
        error: error.message,
      });
      await sleep(delayMs, signal);
    }
  }
}
