/** Which large-payload settings apply to a queue, and when a body goes to S3. */
import type { LargePayloadsOptions } from "../config/types.js";
import type { SqsSettings } from "../sqs/settings.js";

/**
 * Room left under a queue's MaximumMessageSize by the default threshold: a body that just fits inline must
 * still fit once attributes are added on the way (a tracing header, say), and the pointer that replaces a
 * larger one is far smaller.
 */
export const ATTRIBUTE_ROOM_BYTES = 1_024;

/**
 * A queue's large-payload settings: its receiver's own `largePayloads` (`false` turns them off), else the
 * config's. undefined when offloading is off for the queue.
 */
export function largePayloadsFor(
  queueOptions: { readonly largePayloads?: false | LargePayloadsOptions },
  settings: Pick<SqsSettings, "largePayloads">,
): LargePayloadsOptions | undefined {
  const own = queueOptions.largePayloads;
  if (own === false) return undefined;
  return own ?? settings.largePayloads;
}

/**
 * Whether a message of `bytes` (body and attributes) goes to S3 on a queue that accepts `queueMaxBytes`. A
 * `thresholdBytes` above the queue's limit counts as the limit: a message that cannot go inline goes to S3.
 */
export function shouldOffload(options: LargePayloadsOptions, bytes: number, queueMaxBytes: number): boolean {
  if (options.always === true) return true;
  const threshold =
    options.thresholdBytes === undefined
      ? Math.max(0, queueMaxBytes - ATTRIBUTE_ROOM_BYTES)
      : Math.min(options.thresholdBytes, queueMaxBytes);
  return bytes > threshold;
}
