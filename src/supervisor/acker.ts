import type { BatchResultErrorEntry } from "@aws-sdk/client-sqs";
import { errorSummary, isRetryable, SqsRequestError } from "../errors.js";
import type { Logger } from "../logging.js";
import type { SqsHotPath } from "../sqs/hot-path.js";
import { Backoff, sleep } from "../util/backoff.js";
import { Batcher } from "../util/batcher.js";
import { OutageGate } from "./outage-gate.js";

/** What the acker needs to know about one received message. */
export interface AckTarget {
  readonly queueUrl: string;
  readonly messageId: string;
  readonly receiptHandle: string;
  /**
   * When the receipt handle stops being useful: the message's visibility deadline (epoch ms). Failed
   * requests are retried until then, not only a fixed number of times. @defaultValue unknown
   */
  readonly validUntil?: number;
}

interface VisibilityEntry {
  readonly target: AckTarget;
  readonly visibilityTimeoutSeconds: number;
  /** Which change of this receipt handle this is: only the latest one is sent. */
  readonly generation: number;
}

/**
 * Attempts per entry, first try included, before a delete or visibility change is given up, unless its
 * receipt handle is known to be valid for longer: then it is retried until that runs out.
 */
const MAX_ATTEMPTS = 4;
/**
 * How long a delete may wait for nine others before its batch goes out anyway. A deleted message is hidden
 * until its visibility deadline, which the heartbeat keeps at least half a timeout ahead, so waiting costs
 * nothing but the rare redelivery if the process dies meanwhile; not waiting cost a request per message with
 * handlers that finish one at a time (the CPU-bound bench: 0.57 delete requests per message at 5 ms).
 */
const DELETE_FLUSH_DELAY_MS = 100;
/** How long a visibility change may wait for others: give-backs should be visible again at once. */
const VISIBILITY_FLUSH_DELAY_MS = 5;
/** How long an entry whose receipt handle's validity is unknown may wait out an outage before it is given up. */
const UNKNOWN_VALIDITY_MS = 5_000;

/**
 * Settles messages in SQS: deletes after success and visibility changes (RestartLater delays, releases),
 * batched per queue and flushed within 100 ms (deletes) or 5 ms (visibility changes). Failed entries are retried with backoff while a retry can
 * help; what finally fails is logged as "may be redelivered", since at-least-once makes that the only cost.
 */
export class Acker {
  readonly #sqs: SqsHotPath;
  readonly #logger: Logger;
  readonly #deletes: Batcher<AckTarget, boolean>;
  readonly #visibility: Batcher<VisibilityEntry, boolean>;
  /** The latest visibility change asked for each receipt handle, while one is pending. */
  readonly #latestChange = new Map<string, number>();
  #changes = 0;
  /** While SQS cannot be reached, one request at a time probes it; the others wait. */
  readonly #gate = new OutageGate();

  constructor(sqs: SqsHotPath, logger: Logger) {
    this.#sqs = sqs;
    this.#logger = logger;
    this.#deletes = new Batcher((queueUrl, entries) => this.#deleteBatch(queueUrl, entries), {
      delayMs: DELETE_FLUSH_DELAY_MS,
    });
    this.#visibility = new Batcher((queueUrl, entries) => this.#visibilityBatch(queueUrl, entries), {
      delayMs: VISIBILITY_FLUSH_DELAY_MS,
    });
  }

  /** Deletes the message; resolves false if it could not be deleted (it may then be redelivered). */
  delete(target: AckTarget): Promise<boolean> {
    // The executors never reject (they log and report per entry); the catch only keeps that promise honest.
    return this.#deletes.add(target.queueUrl, target).catch(() => false);
  }

  /**
   * Sets the message's visibility timeout from now; 0 makes it receivable again at once. A later change of the
   * same receipt handle supersedes one not sent yet (or waiting to be retried): that one is dropped and
   * resolves true. Otherwise a heartbeat's extension, retried under throttling, could land after a give-back
   * and hide the message again for a whole visibility timeout.
   */
  changeVisibility(target: AckTarget, visibilityTimeoutSeconds: number): Promise<boolean> {
    const handle = target.receiptHandle;
    const generation = ++this.#changes;
    this.#latestChange.set(handle, generation);
    return this.#visibility
      .add(target.queueUrl, { target, visibilityTimeoutSeconds, generation })
      .catch(() => false)
      .finally(() => {
        if (this.#latestChange.get(handle) === generation) this.#latestChange.delete(handle);
      });
  }

  /** Sends everything waiting and waits for every request under way. */
  async flush(): Promise<void> {
    await Promise.all([this.#deletes.flush(), this.#visibility.flush()]);
  }

  #deleteBatch(queueUrl: string, entries: readonly AckTarget[]): Promise<readonly boolean[]> {
    return this.#runWithRetries(
      "DeleteMessageBatch",
      queueUrl,
      entries,
      async (pending) => {
        const output = await this.#sqs.deleteMessageBatch({
          QueueUrl: queueUrl,
          Entries: pending.map(({ entry, id }) => ({ Id: id, ReceiptHandle: entry.receiptHandle })),
        });
        return output.Failed ?? [];
      },
      (entry) => entry,
    );
  }

  #visibilityBatch(queueUrl: string, entries: readonly VisibilityEntry[]): Promise<readonly boolean[]> {
    return this.#runWithRetries(
      "ChangeMessageVisibilityBatch",
      queueUrl,
      entries,
      async (pending) => {
        const output = await this.#sqs.changeMessageVisibilityBatch({
          QueueUrl: queueUrl,
          Entries: pending.map(({ entry, id }) => ({
            Id: id,
            ReceiptHandle: entry.target.receiptHandle,
            VisibilityTimeout: entry.visibilityTimeoutSeconds,
          })),
        });
        return output.Failed ?? [];
      },
      (entry) => entry.target,
      (entry) => this.#latestChange.get(entry.target.receiptHandle) !== entry.generation,
    );
  }

  /**
   * Runs a batch action, then retries the entries that failed for a reason a retry can fix (server faults,
   * throttling, network errors). Entries SQS rejected as the sender's fault (an expired receipt handle) are not
   * retried.
   */
  async #runWithRetries<E>(
    action: string,
    queueUrl: string,
    entries: readonly E[],
    attempt: (pending: readonly { entry: E; id: string }[]) => Promise<readonly BatchResultErrorEntry[]>,
    targetOf: (entry: E) => AckTarget,
    superseded: (entry: E) => boolean = () => false,
  ): Promise<readonly boolean[]> {
    const results = entries.map(() => false);
    let pending = entries.map((entry, index) => ({ entry, id: String(index) }));
    const backoff = new Backoff({ initialMs: 250, maxMs: 5_000 });
    let lastProblem = "";
    let attempts = 0;
    const givenUp: { entry: E; id: string }[] = [];
    const startedAt = Date.now();
    while (pending.length > 0) {
      if (attempts > 0) {
        const delayMs = backoff.next();
        // Worth another try: within the first attempts, or while the receipt handle is still valid.
        const stillValid = Date.now() + delayMs;
        const keep = pending.filter(
          (item) => attempts < MAX_ATTEMPTS || (targetOf(item.entry).validUntil ?? 0) > stillValid,
        );
        givenUp.push(...pending.filter((item) => !keep.includes(item)));
        pending = keep;
        if (pending.length === 0) break;
        await sleep(delayMs);
      }
      // A later change of the same message stands in for a superseded one: it is not sent.
      for (const item of pending) if (superseded(item.entry)) results[Number(item.id)] = true;
      pending = pending.filter((item) => !superseded(item.entry));
      if (pending.length === 0) break;
      const deadline = Math.max(
        ...pending.map((item) => targetOf(item.entry).validUntil ?? startedAt + UNKNOWN_VALIDITY_MS),
      );
      if (!(await this.#gate.enter(deadline))) {
        lastProblem ||= "SQS could not be reached";
        givenUp.push(...pending);
        break;
      }
      attempts += 1;
      let failed: readonly BatchResultErrorEntry[];
      try {
        failed = await attempt(pending);
      } catch (error) {
        lastProblem = errorSummary(new SqsRequestError(action, error, { queueUrl }));
        if (!isRetryable(error)) {
          this.#gate.succeeded();
          givenUp.push(...pending);
          break;
        }
        this.#gate.failed();
        continue;
      }
      this.#gate.succeeded();
      const failedById = new Map(failed.map((failure) => [failure.Id, failure]));
      const retry: typeof pending = [];
      for (const item of pending) {
        const failure = failedById.get(item.id);
        if (!failure) {
          results[Number(item.id)] = true;
        } else if (failure.SenderFault) {
          this.#logger.warn(`${action} rejected an entry; the message may be redelivered`, {
            queueUrl,
            messageId: targetOf(item.entry).messageId,
            awsCode: failure.Code,
            reason: failure.Message,
          });
        } else {
          lastProblem = `${failure.Code ?? "error"}: ${failure.Message ?? ""}`;
          retry.push(item);
        }
      }
      pending = retry;
    }
    for (const item of givenUp) {
      this.#logger.warn(`${action} failed; the message may be redelivered`, {
        queueUrl,
        messageId: targetOf(item.entry).messageId,
        attempts,
        reason: lastProblem,
      });
    }
    return results;
  }
}
