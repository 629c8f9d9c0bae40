import type { LargePayloadsOptions } from "../config/types.js";
import { errorSummary } from "../errors.js";
import type { Logger } from "../logging.js";
import type { S3Location } from "../payloads/pointer.js";
import type { SupervisorEmitter } from "./events.js";

/**
 * Deletes offloaded bodies from S3 after their messages (`largePayloads.deleteAfterProcessing`). The order is
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
