/**
 * The receive side of large payloads, run in pool threads before the codec: a message that carries
 * `ExtendedPayloadSize` (or the legacy `SQSLargePayloadSize`) has its body read from the S3 object its pointer
 * names. This module is imported by every pool thread, so it loads the S3 SDK only when such a message comes.
 */
import type { MessageAttribute } from "../codecs/codec.js";
import { PayloadFetchError, PayloadRefusedError } from "../codecs/errors.js";
import type { LargePayloadsOptions } from "../config/types.js";
import { errorSummary, PayloadStoreError } from "../errors.js";
import { PayloadTooLargeError } from "./too-large.js";
import { declaredSize, isOffloaded, parsePointer, type MessagePayload } from "./pointer.js";

/** A message's body as its codec gets it, and where it came from. */
export interface ResolvedBody {
  readonly text: string;
  readonly payload: MessagePayload;
}

const INLINE: MessagePayload = { location: "inline" };

/** The largest offloaded body read when `maxPayloadBytes` is not set: 64 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/**
 * The body of a received message: its SQS body, or, when the queue has `largePayloads` and the message is
 * offloaded, the S3 object's text. An offloaded message on a queue without `largePayloads` is refused: its
 * codec would otherwise decode the pointer as the body, and a handler "succeed" on it and delete it.
 * Failures are decode errors that name bucket and key (never the body), so the message follows `onError` and
 * its redrive policy like any message that cannot be decoded.
 */
export async function resolveBody(
  message: { readonly body: string; readonly messageAttributes: Readonly<Record<string, MessageAttribute>> },
  options: LargePayloadsOptions | undefined,
  signal?: AbortSignal,
): Promise<ResolvedBody> {
  if (!isOffloaded(message.messageAttributes)) return { text: message.body, payload: INLINE };
  const location = parsePointer(message.body);
  if (!options) {
    throw new PayloadRefusedError(
      location.bucket,
      location.key,
      "the message carries ExtendedPayloadSize (its body is in S3) but the queue has no largePayloads",
    );
  }
  // The pointer is whatever a sender wrote: read only the buckets the config names, and no more than the limit.
  const buckets = [options.bucket, ...(options.allowedBuckets ?? [])];
  if (!buckets.includes(location.bucket)) {
    throw new PayloadRefusedError(
      location.bucket,
      location.key,
      "the bucket is not largePayloads.bucket nor in largePayloads.allowedBuckets",
    );
  }
  const maxBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const declared = declaredSize(message.messageAttributes);
  if (declared !== undefined && declared > maxBytes) {
    throw new PayloadRefusedError(location.bucket, location.key, tooLarge(declared, maxBytes, "declares"));
  }
  let text: string;
  try {
    const { getPayloadText } = await import("./s3-store.js");
    text = await getPayloadText(options, location, maxBytes, signal);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) {
      throw new PayloadRefusedError(location.bucket, location.key, tooLarge(error.bytes, maxBytes, error.how));
    }
    if (!(error instanceof PayloadStoreError)) throw error;
    throw new PayloadFetchError(location.bucket, location.key, error.missing, errorSummary(error.cause), error);
  }
  const sizeBytes = declaredSize(message.messageAttributes) ?? Buffer.byteLength(text, "utf8");
  return { text, payload: { location: "s3", bucket: location.bucket, key: location.key, sizeBytes } };
}

function tooLarge(bytes: number, maxBytes: number, how: string): string {
  return `the object ${how} ${bytes} bytes, more than largePayloads.maxPayloadBytes (${maxBytes})`;
}
