/**
 * The send side of large payloads: puts a body in S3 and swaps it for the extended clients' pointer. Imported
 * by producer.ts only when a send must be offloaded, so that the S3 SDK loads then and only then.
 */
import { randomUUID } from "node:crypto";
import type { LargePayloadsOptions } from "../config/types.js";
import { ValidationError } from "../errors.js";
import type { OutgoingMessage } from "../sqs/producer-client.js";
import { LEGACY_SIZE_ATTRIBUTE, pointerBody, SIZE_ATTRIBUTE, sizeAttribute } from "./pointer.js";
import { putPayload } from "./s3-store.js";
import { countOffloadedSend } from "./stats.js";

/**
 * Writes the message's body to S3 under `prefix` + a random UUID and returns the message that points to it,
 * with its size as SQS counts it (pointer plus attributes): that is what the batcher's 1 MiB request limit and
 * the queue's MaximumMessageSize then see. The object is written before the message is sent, so a consumer can
 * never receive a pointer to an object that is not there yet; a send that fails afterwards leaves the object
 * behind, for the bucket's lifecycle rule.
 */
export async function offload(
  outgoing: OutgoingMessage,
  options: LargePayloadsOptions,
  fullName: string,
): Promise<OutgoingMessage> {
  const { entry } = outgoing;
  const attributes = entry.MessageAttributes ?? {};
  for (const reserved of [SIZE_ATTRIBUTE, LEGACY_SIZE_ATTRIBUTE]) {
    if (reserved in attributes) {
      throw new ValidationError(`send to ${fullName}`, [
        {
          path: `messageAttributes.${reserved}`,
          rule: "is reserved for large payloads (it marks a message whose body is in S3)",
          received: attributes[reserved]?.StringValue,
        },
      ]);
    }
  }
  const body = Buffer.from(entry.MessageBody ?? "", "utf8");
  const location = { bucket: options.bucket, key: `${options.prefix ?? ""}${randomUUID()}` };
  await putPayload(options, location, body);
  countOffloadedSend(body.length);
  const pointer = pointerBody(location);
  const size = sizeAttribute(body.length);
  const bytes =
    outgoing.bytes -
    body.length +
    Buffer.byteLength(pointer, "utf8") +
    SIZE_ATTRIBUTE.length +
    size.DataType.length +
    size.StringValue.length;
  return {
    entry: { ...entry, MessageBody: pointer, MessageAttributes: { ...attributes, [SIZE_ATTRIBUTE]: size } },
    bytes,
  };
}
