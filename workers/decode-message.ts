import { createHash } from "node:crypto";
import { BodyChecksumError } from "../src/codecs/errors.js";
import { validateWithSchema } from "../src/codecs/schema.js";
import { resolveBody } from "../src/payloads/fetch.js";
import { largePayloadsFor } from "../src/payloads/options.js";
import type { HandlerTask, WireMessage } from "../src/pool/protocol.js";
import type { ReceivedMessage, RegisteredQueue } from "../src/registry/types.js";
import { currentSqsSettings } from "../src/sqs/settings.js";

/** Asks the supervisor to extend one delivery's visibility (the handler's `message.extendVisibility`). */
export type ExtendVisibility = (deliveryId: number, seconds: number) => Promise<void>;

/** Builds the handler's message: decoded (possibly async, e.g. a row load), then checked by the schema. */
export async function decode(
  queue: RegisteredQueue,
  task: HandlerTask,
  message: WireMessage,
  signal: AbortSignal,
  extendVisibility: ExtendVisibility,
): Promise<ReceivedMessage> {
  checkBodyMd5(message);
  const context = { messageId: message.id, messageAttributes: message.messageAttributes };
  // An offloaded body is read from S3 first; the codec and schema then see it as if it had come inline.
  const { text, payload } = await resolveBody(message, largePayloadsFor(queue.options, currentSqsSettings()), signal);
  const ref = queue.codec.reference?.(text, context);
  let body = await queue.codec.decode(text, context);
  if (queue.options.schema) body = await validateWithSchema(queue.options.schema, body, `message ${message.id}`);
  const sentTimestamp = Number(message.attributes["SentTimestamp"]);
  return {
    id: message.id,
    body,
    rawBody: message.body,
    ref,
    payload,
    attributes: message.attributes,
    messageAttributes: message.messageAttributes,
    receiveCount: Number(message.attributes["ApproximateReceiveCount"] ?? "1"),
    queue: { name: task.queue, fullName: task.fullName, suffix: task.suffix },
    sentAt: new Date(Number.isFinite(sentTimestamp) ? sentTimestamp : Date.now()),
    signal,
    extendVisibility: (seconds) => extendVisibility(message.deliveryId, seconds),
  };
}

/**
 * The end-to-end integrity check the SDK's `md5` option would make in the supervisor, made here instead, where
 * the body is at hand anyway and the hashing costs no poller any time: the MD5 of the body's UTF-8 bytes
 * against the `MD5OfBody` SQS computed on send (of the pointer, for an offloaded body).
 */
function checkBodyMd5(message: WireMessage): void {
  if (message.md5OfBody === undefined) return;
  const md5 = createHash("md5").update(message.body, "utf8").digest("hex");
  if (md5 !== message.md5OfBody) throw new BodyChecksumError(message.id);
}
