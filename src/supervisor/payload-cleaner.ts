import type { LargePayloadsOptions } from "../config/types.js";
import { errorSummary } from "../errors.js";
import type { Logger } from "../logging.js";
import type { S3Location } from "../payloads/pointer.js";
import { largePayloadsFor } from "../payloads/options.js";
import type { Outcome } from "../pool/protocol.js";
import { currentSqsSettings } from "../sqs/settings.js";
import type { SupervisorEmitter } from "./events.js";
import type { PollTarget } from "./target.js";

/** Decode failures that mean the body could not be read from S3 (see PayloadFetchError). */
function isFetchFailure(code: string | undefined): boolean {
  return code === "SQSD_PAYLOAD_MISSING" || code === "SQSD_PAYLOAD_FETCH";
}

/**
 * Counts large payloads for /metrics, and deletes offloaded bodies from S3 after their messages (`largePayloads.deleteAfterProcessing`). The order is
 * the point: the object goes only once SQS has confirmed the message's delete, never before, so a message
 * that is redelivered (its delete failed, its visibility ran out) still finds its body. A failed object delete
 * is logged with bucket and key and counted, after the S3 SDK's own few attempts, and never retried beyond
 * that: the message is already gone, so the worst case is an object left for the bucket's lifecycle rule.
 *
 * It runs on the supervisor's event loop because only the supervisor learns that a delete succeeded (the
 * acker's batches); the S3 SDK is imported at its first delete.
 */
export class PayloadCleaner {
  readonly #logger: Logger;
  readonly #events: SupervisorEmitter;
  readonly #pending = new Set<Promise<void>>();

  constructor(logger: Logger, events: SupervisorEmitter) {
    this.#logger = logger;
    this.#events = events;
  }

  /**
   * A run's outcome for one message was settled: counts what the run read from and sent through S3, and with
   * `deleteAfterProcessing` deletes the body's object once `messageDeleted` (the acker's delete, when the
   * settlement deletes the message) resolves true. A message deleted on start is gone already, so its object
   * goes when its run ends.
   */
  settled(target: PollTarget, outcome: Outcome, messageDeleted: Promise<boolean> | undefined): void {
    const queue = target.fullName;
    const events = this.#events;
    if (outcome.offloadedSends) events.emit("payloadsSent", outcome.offloadedSends.count, outcome.offloadedSends.bytes);
    if (outcome.kind === "failed" && outcome.phase === "decode" && isFetchFailure(outcome.error.code)) {
      events.emit("payloadFetchFailed", queue);
    }
    const { payload } = outcome;
    if (!payload) return;
    events.emit("payloadReceived", queue, payload.sizeBytes);
    const options = largePayloadsFor(target.queue.options, currentSqsSettings());
    if (!options?.deleteAfterProcessing) return;
    // The pointer comes from whoever could send to the queue: sqsd deletes only in the bucket it was given, so
    // a pointer cannot make it delete objects elsewhere that its role happens to reach.
    if (payload.bucket !== options.bucket) {
      this.#logger.warn("large payload not deleted: its pointer names another bucket than largePayloads", {
        queue,
        bucket: payload.bucket,
        key: payload.key,
      });
      return;
    }
    const deleted = target.queue.options.deleteOnStart ? Promise.resolve(true) : messageDeleted;
    if (deleted) this.afterMessageDeleted(deleted, payload, options, queue);
  }

  /** Deletes `location` once `messageDeleted` resolves true; leaves it when the message was not deleted. */
  afterMessageDeleted(
    messageDeleted: Promise<boolean>,
    location: S3Location,
    options: LargePayloadsOptions,
    queue: string,
  ): void {
    const work = this.#deleteAfter(messageDeleted, location, options, queue);
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  /** Waits for every object delete under way, those still waiting for their message's delete included. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #deleteAfter(
    messageDeleted: Promise<boolean>,
    location: S3Location,
    options: LargePayloadsOptions,
    queue: string,
  ): Promise<void> {
    if (!(await messageDeleted)) return;
    try {
      const { deletePayload } = await import("../payloads/s3-store.js");
      await deletePayload(options, location);
      this.#events.emit("payloadDeleted", queue);
    } catch (error) {
      this.#logger.warn("could not delete a large payload's S3 object after its message; it stays in the bucket", {
        queue,
        bucket: location.bucket,
        key: location.key,
        error: errorSummary(error),
      });
      this.#events.emit("payloadDeleteFailed", queue);
    }
  }
}
