import { PAYLOAD_UNREADABLE_CODES } from "../codecs/errors.js";
import type { LargePayloadsOptions } from "../config/types.js";
import { errorSummary } from "../errors.js";
import type { Logger } from "../logging.js";
import type { S3Location } from "../payloads/pointer.js";
import { largePayloadsFor } from "../payloads/options.js";
import type { Outcome } from "../pool/protocol.js";
import { currentSqsSettings } from "../sqs/settings.js";
import type { SupervisorEmitter } from "./events.js";
import type { PollTarget } from "./target.js";

/** Deletes one object; the S3 store's, unless a test stands in for it. */
export type DeleteObject = (options: LargePayloadsOptions, location: S3Location) => Promise<void>;

const s3Delete: DeleteObject = async (options, location) =>
  (await import("../payloads/s3-store.js")).deletePayload(options, location);

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
  /** Object deletes under way (or waiting for their message's delete), and the object each is for. */
  readonly #pending = new Map<Promise<void>, S3Location>();
  readonly #deleteObject: DeleteObject;

  constructor(logger: Logger, events: SupervisorEmitter, deleteObject: DeleteObject = s3Delete) {
    this.#logger = logger;
    this.#events = events;
    this.#deleteObject = deleteObject;
  }

  /**
   * A run's outcome for one message was settled: counts what the run read from and sent through S3, and with
   * `deleteAfterProcessing` deletes the body's object once `messageDeleted` (the acker's delete, when the
   * settlement deletes the message) resolves true and `stillOwned()` (asked then) says the receipt handle was
   * still this delivery's. A message deleted on start is gone already, so its object goes when its run ends.
   */
  settled(
    target: PollTarget,
    outcome: Outcome,
    messageDeleted: Promise<boolean> | undefined,
    stillOwned: () => boolean = () => true,
  ): void {
    const queue = target.fullName;
    const events = this.#events;
    if (outcome.offloadedSends) events.emit("payloadsSent", outcome.offloadedSends.count, outcome.offloadedSends.bytes);
    if (
      outcome.kind === "failed" &&
      outcome.phase === "decode" &&
      PAYLOAD_UNREADABLE_CODES.has(outcome.error.code ?? "")
    ) {
      events.emit("payloadFetchFailed", queue);
    }
    const { payload } = outcome;
    if (!payload) return;
    events.emit("payloadReceived", queue, payload.sizeBytes);
    const options = largePayloadsFor(target.queue.options, currentSqsSettings());
    if (!options?.deleteAfterProcessing) return;
    // The pointer comes from whoever could send to the queue: sqsd deletes only in the bucket it was given, so
    // a pointer cannot make it delete objects elsewhere that its role happens to reach.
    // With a prefix, only keys under it: the bucket may hold other objects the role can delete.
    if (payload.bucket !== options.bucket || !payload.key.startsWith(options.prefix ?? "")) {
      this.#logger.warn("large payload not deleted: its pointer names another bucket or prefix than largePayloads", {
        queue,
        bucket: payload.bucket,
        key: payload.key,
      });
      return;
    }
    const deleted = target.queue.options.deleteOnStart ? Promise.resolve(true) : messageDeleted;
    const owned = target.queue.options.deleteOnStart ? () => true : stillOwned;
    if (deleted) this.afterMessageDeleted(deleted, payload, options, queue, owned);
  }

  /**
   * Deletes `location` once `messageDeleted` resolves true and `stillOwned()` holds then; leaves it when the
   * message was not deleted, or when its delete was confirmed after the receipt handle stopped being ours.
   */
  afterMessageDeleted(
    messageDeleted: Promise<boolean>,
    location: S3Location,
    options: LargePayloadsOptions,
    queue: string,
    stillOwned: () => boolean = () => true,
  ): void {
    const work = this.#deleteAfter(messageDeleted, location, options, queue, stillOwned);
    this.#pending.set(work, location);
    void work.finally(() => this.#pending.delete(work));
  }

  /**
   * Waits for every object delete under way, those still waiting for their message's delete included, for
   * at most `timeoutMs` when given (a drain must end): objects still pending then are logged by bucket and key
   * and left for the bucket's lifecycle rule.
   */
  async flush(timeoutMs?: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      if (timeoutMs !== undefined) timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      while (this.#pending.size > 0) {
        if ((await Promise.race([Promise.all([...this.#pending.keys()]), timedOut])) === "timeout") {
          this.#logger.warn("large payloads' S3 objects not deleted before the drain ended; they stay in the bucket", {
            objects: [...this.#pending.values()].map((location) => `s3://${location.bucket}/${location.key}`),
          });
          return;
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async #deleteAfter(
    messageDeleted: Promise<boolean>,
    location: S3Location,
    options: LargePayloadsOptions,
    queue: string,
    stillOwned: () => boolean,
  ): Promise<void> {
    if (!(await messageDeleted)) return;
    // A delete confirmed after the visibility deadline (the acker retries while the handle may still work), or
    // after the heartbeat lost the message, may have hit a message SQS had already handed out again: SQS can
    // answer success to a stale receipt handle and keep the message. Its redelivered copy needs the body.
    if (!stillOwned()) {
      this.#logger.warn(
        "large payload not deleted: its message's delete was confirmed after the receipt handle's visibility ran out, so the message may have been redelivered",
        { queue, bucket: location.bucket, key: location.key },
      );
      this.#events.emit("payloadDeleteFailed", queue);
      return;
    }
    try {
      await this.#deleteObject(options, location);
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
