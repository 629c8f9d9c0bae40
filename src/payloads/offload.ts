/**
 * The send side of large payloads: puts a body in S3 and swaps it for the extended clients' pointer. Imported
 * by producer.ts only when a send must be offloaded, so that the S3 SDK loads then and only then.
 */
import { randomUUID } from "node:crypto";
import type { LargePayloadsOptions } from "../config/types.js";
import { errorSummary, ValidationError } from "../errors.js";
import { SQS_LIMITS } from "../limits.js";
import type { OutgoingMessage } from "../sqs/producer-client.js";
import { checkReservedAttributes, pointerBody, type S3Location, SIZE_ATTRIBUTE, sizeAttribute } from "./pointer.js";
import { deletePayload, putPayload } from "./s3-store.js";
import { warn } from "../warnings.js";
import { countOffloadedSend } from "./stats.js";

/**
 * Writes the message's body to S3 under `prefix` + a random UUID and returns the message that points to it,
 * with its size as SQS counts it (pointer plus attributes): that is what the batcher's 1 MiB request limit and
 * the queue's MaximumMessageSize then see. Everything that can refuse the pointer message locally (SQS's
 * attribute count, `checkSize` of the pointer and its attributes) runs before the upload, so that a send
 * refused here leaves no object behind. The object is written before the message is sent, so a consumer can
 * never receive a pointer to an object that is not there yet; if SQS then does not take the message, its
 * `discard` deletes the object again.
 */
export async function offload(
  outgoing: OutgoingMessage,
  options: LargePayloadsOptions,
  fullName: string,
  checkSize: (bytes: number) => Promise<void>,
): Promise<OutgoingMessage> {
  const { entry } = outgoing;
  const attributes = entry.MessageAttributes ?? {};
  checkReservedAttributes(attributes, fullName);
  const count = Object.keys(attributes).length;
  if (count + 1 > SQS_LIMITS.maxMessageAttributes) {
    throw new ValidationError(`send to ${fullName}`, [
      {
        path: "messageAttributes",
        rule: `must leave room for ${SIZE_ATTRIBUTE} when the body goes to S3: SQS allows ${SQS_LIMITS.maxMessageAttributes} attributes per message`,
        received: `${count} attributes`,
      },
    ]);
  }
  const body = Buffer.from(entry.MessageBody ?? "", "utf8");
  const location = { bucket: options.bucket, key: `${options.prefix ?? ""}${randomUUID()}` };
  const pointer = pointerBody(location);
  const size = sizeAttribute(body.length);
  const bytes =
    outgoing.bytes -
    body.length +
    Buffer.byteLength(pointer, "utf8") +
    SIZE_ATTRIBUTE.length +
    size.DataType.length +
    size.StringValue.length;
  await checkSize(bytes);
  await putPayload(options, location, body);
  countOffloadedSend(body.length);
  return {
    entry: { ...entry, MessageBody: pointer, MessageAttributes: { ...attributes, [SIZE_ATTRIBUTE]: size } },
    bytes,
    discard: () => void discardPayload(options, location, fullName),
  };
}

/**
 * Best effort: deletes the object of a message SQS did not take. A failure is only warned about, naming bucket
 * and key (never the body): the object is then left for the bucket's lifecycle rule.
 */
async function discardPayload(options: LargePayloadsOptions, location: S3Location, fullName: string): Promise<void> {
  try {
    await deletePayload(options, location);
  } catch (error) {
    warn(
      `the send to ${fullName} failed and its large payload s3://${location.bucket}/${location.key} could not be deleted (${errorSummary(error)}); it stays for the bucket's lifecycle rule`,
      "SQSD_PAYLOAD_ORPHANED",
    );
  }
}
