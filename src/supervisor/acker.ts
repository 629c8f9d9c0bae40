import type { BatchResultErrorEntry } from "@aws-sdk/client-sqs";
import { errorSummary, SqsRequestError } from "../errors.js";
import { isRetryable } from "../failure-kind.js";
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
  /**
   * Set by a bounded {@link Acker.flush}: nothing is sent or retried past this time (epoch ms), whatever the
   * receipt handles' validity. Without it a drain during an outage would retry a delete for as long as its
   * message's visibility timeout (hours).
   */
  #closeBy = Number.POSITIVE_INFINITY;
  /** Aborted at {@link Acker.#closeBy}: requests still under way then are cut short. */
  readonly #closing = new AbortController();
  #closeTimer: NodeJS.Timeout | undefined;

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

  /**
   * Sends everything waiting and waits for every request under way. With `limitMs`, the final flush of a
   * drain: whatever is not settled within it (requests under way included) is given up and logged as "may be
   * redelivered", so the drain ends within a stated bound even while SQS cannot be reached.
   */
  async flush(limitMs?: number): Promise<void> {
    if (limitMs !== undefined) this.#closeWithin(limitMs);
    await Promise.all([this.#deletes.flush(), this.#visibility.flush()]);
  }

  #closeWithin(limitMs: number): void {
    const closeBy = Date.now() + limitMs;
    if (closeBy >= this.#closeBy) return;
    this.#closeBy = closeBy;
    clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(
      () => this.#closing.abort(new Error("the drain's ack flush ran out of time")),
      limitMs,
    );
    // The flush's own promise keeps the process up; this timer alone must not.
    this.#closeTimer.unref();
  }

  #deleteBatch(queueUrl: string, entries: readonly AckTarget[]): Promise<readonly boolean[]> {
    return this.#runWithRetries(
      "DeleteMessageBatch",
      queueUrl,
      entries,
      async (pending) => {
        const output = await this.#sqs.deleteMessageBatch(
          {
            QueueUrl: queueUrl,
            Entries: pending.map(({ entry, id }) => ({ Id: id, ReceiptHandle: entry.receiptHandle })),
          },
          { abortSignal: this.#closing.signal },
        );
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
        const output = await this.#sqs.changeMessageVisibilityBatch(
          {
            QueueUrl: queueUrl,
            Entries: pending.map(({ entry, id }) => ({
              Id: id,
              ReceiptHandle: entry.target.receiptHandle,
              VisibilityTimeout: entry.visibilityTimeoutSeconds,
            })),
          },
          { abortSignal: this.#closing.signal },
        );
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
        // Worth another try: within the first attempts, or while the receipt handle is still valid; and never
        // past a bounded flush's limit.
        const stillValid = Date.now() + delayMs;
        const keep = pending.filter(
          (item) =>
            stillValid < this.#closeBy &&
            (attempts < MAX_ATTEMPTS || (targetOf(item.entry).validUntil ?? 0) > stillValid),
        );
        givenUp.push(...pending.filter((item) => !keep.includes(item)));
        pending = keep;
        if (pending.length === 0) break;
        await sleep(delayMs, this.#closing.signal);
      }
      // A later change of the same message stands in for a superseded one: it is not sent.
      for (const item of pending) if (superseded(item.entry)) results[Number(item.id)] = true;
      pending = pending.filter((item) => !superseded(item.entry));
      if (pending.length === 0) break;
      const deadline = Math.max(
        ...pending.map((item) => targetOf(item.entry).validUntil ?? startedAt + UNKNOWN_VALIDITY_MS),
      );
      // The closing signal, not only #closeBy: a flush may set its limit while this entry waits at the gate.
      if (
        this.#closing.signal.aborted ||
        !(await this.#gate.enter(Math.min(deadline, this.#closeBy), this.#closing.signal))
      ) {
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
