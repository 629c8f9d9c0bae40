/**
 * `send()` and `sendBatch()`: everything that can refuse a body before any request (schema, codec, sizes)
 * is here; the SQS client behind them is loaded at the first send (see producer-client.ts). Receiver modules
 * import this file in every pool thread, so nothing here may import the AWS SDK (nor `@opentelemetry/api`, see
 * sendTracing) at run time.
 */
import type { MessageAttributeValue } from "@aws-sdk/client-sqs";
import { validateWithSchema } from "../codecs/schema.js";
import { MessageTooLargeError, ValidationError, type FieldProblem } from "../errors.js";
import { SQS_LIMITS } from "../limits.js";
import type { SendTrace } from "../telemetry/send.js";
import { getRegistry } from "./registry.js";
import type { RegisteredQueue, SendAttributeValue, SendOptions } from "./types.js";
import type { OutgoingMessage, Producer } from "../sqs/producer-client.js";
import type { LargePayloadsOptions } from "../config/types.js";
import { largePayloadsFor, shouldOffload } from "../payloads/options.js";
import { checkReservedAttributes } from "../payloads/pointer.js";
import { currentSqsSettings } from "../sqs/settings.js";

/** Group id used for FIFO sends that name none. */
export const DEFAULT_FIFO_GROUP_ID = "default";

/** What {@link sendBatch} reports: per entry, by index into the bodies given. */
export interface SendBatchResult {
  readonly successful: readonly { readonly index: number; readonly messageId: string }[];
  readonly failed: readonly { readonly index: number; readonly error: Error }[];
}

/**
 * Sends `body` to the queue registered as `name`, encoded by its codec; resolves with the SQS message id.
 * Concurrent sends to one queue share SendMessageBatch requests (up to 10 messages, within 2 ms), and each
 * caller still gets its own id or its own error. Works in the daemon's threads and in any other process
 * (see `configureSqs` and `configureFromFile`).
 *
 * @example
 * ```ts
 * await send("thumbnails", { imageId: 7 }, { suffix: "big", delaySeconds: 10 });
 * ```
 */
export async function send(name: string, body: unknown, options?: SendOptions): Promise<string> {
  return sendToQueue(getRegistry().get(name), body, options);
}

/**
 * Sends many bodies to one queue in as few SendMessageBatch requests as the limits allow (10 messages and
 * 1 MiB a request), and reports each body's outcome instead of throwing: bodies that fail the schema, the
 * codec or the size limit fail alone, without a request.
 */
export async function sendBatch(
  name: string,
  bodies: readonly unknown[],
  options?: SendOptions,
): Promise<SendBatchResult> {
  return sendBatchToQueue(getRegistry().get(name), bodies, options);
}

/**
 * Sends to a registered queue; the proxies and {@link send} share it. With `abortSignal` (sqsd's own sends
 * that must not land after a deadline), the message goes in a request of its own that the signal aborts,
 * and nothing is sent once it has aborted.
 */
export async function sendToQueue<T, TSend>(
  queue: RegisteredQueue<T, TSend>,
  body: TSend,
  options: SendOptions = {},
  abortSignal?: AbortSignal,
): Promise<string> {
  const fullName = queue.fullNameFor(options.suffix);
  return (await sendTracing()).tracedSend(
    fullName,
    queue.name,
    undefined,
    (trace) => sendOneTraced(queue, fullName, body, options, trace, abortSignal),
    (messageId) => ({ messageId }),
  );
}

/** {@link sendToQueue} inside its `send` span; `trace` goes on the message. */
async function sendOneTraced<T, TSend>(
  queue: RegisteredQueue<T, TSend>,
  fullName: string,
  body: TSend,
  options: SendOptions,
  trace: SendTrace | undefined,
  abortSignal: AbortSignal | undefined,
): Promise<string> {
  const large = largePayloadsFor(queue.options, currentSqsSettings());
  const prepared = await prepare(queue, fullName, body, options, large !== undefined);
  const producer = await currentProducer();
  const queueUrl = await producer.urls.resolve(fullName, {
    visibilityTimeoutSeconds: queue.options.visibilityTimeoutSeconds,
  });
  const outgoing = await fitQueue(producer, queueUrl, fullName, prepared, large, trace);
  let result;
  if (abortSignal) {
    if (abortSignal.aborted) {
      outgoing.discard?.();
      abortSignal.throwIfAborted();
    }
    result = await producer.sendAlone(queueUrl, outgoing, abortSignal);
  } else {
    result = await producer.batcher(queue.fifo).add(queueUrl, outgoing);
  }
  if ("error" in result) throw result.error;
  return result.messageId;
}

/** {@link sendBatch} for a registered queue. */
export async function sendBatchToQueue<T, TSend>(
  queue: RegisteredQueue<T, TSend>,
  bodies: readonly TSend[],
  options: SendOptions = {},
): Promise<SendBatchResult> {
  const fullName = queue.fullNameFor(options.suffix);
  return (await sendTracing()).tracedSend(
    fullName,
    queue.name,
    bodies.length,
    (trace) => sendBatchTraced(queue, fullName, bodies, options, trace),
    (result) => ({ error: result.failed[0]?.error }),
  );
}

/** {@link sendBatchToQueue} inside its `send` span; `trace` goes on every message. */
async function sendBatchTraced<T, TSend>(
  queue: RegisteredQueue<T, TSend>,
  fullName: string,
  bodies: readonly TSend[],
  options: SendOptions,
  trace: SendTrace | undefined,
): Promise<SendBatchResult> {
  const producer = await currentProducer();
  const queueUrl = await producer.urls.resolve(fullName, {
    visibilityTimeoutSeconds: queue.options.visibilityTimeoutSeconds,
  });
  const successful: { index: number; messageId: string }[] = [];
  const failed: { index: number; error: Error }[] = [];
  const large = largePayloadsFor(queue.options, currentSqsSettings());
  const sends = bodies.map(async (body, index) => {
    try {
      const prepared = await prepare(queue, fullName, body, options, large !== undefined);
      const outgoing = await fitQueue(producer, queueUrl, fullName, prepared, large, trace);
      return { index, outgoing };
    } catch (error) {
      failed.push({ index, error: error as Error });
      return undefined;
    }
  });
  const ready = (await Promise.all(sends)).filter((item) => item !== undefined);
  // Added in order and at once, the batcher packs them into as few requests as the limits allow; for FIFO
  // queues it runs those requests one after another, which keeps the order.
  const batcher = producer.batcher(queue.fifo);
  await Promise.all(
    ready.map(async ({ index, outgoing }) => {
      try {
        const result = await batcher.add(queueUrl, outgoing);
        if ("error" in result) failed.push({ index, error: result.error });
        else successful.push({ index, messageId: result.messageId });
      } catch (error) {
        failed.push({ index, error: error as Error });
      }
    }),
  );
  const byIndex = <E extends { index: number }>(entries: E[]): E[] => entries.sort((a, b) => a.index - b.index);
  return { successful: byIndex(successful), failed: byIndex(failed) };
}

/**
 * Makes a prepared message fit its queue: with `largePayloads`, a body past the threshold goes to S3 and the
 * message becomes the pointer (offload.ts, loaded only then); then the queue's MaximumMessageSize is checked.
 * The trace context goes on last, and only where it still fits (see withTraceAttributes): sizes, the offload
 * threshold and the attribute count are the same with and without tracing, so registering an SDK can never
 * make a send fail or go to S3.
 */
async function fitQueue(
  producer: Producer,
  queueUrl: string,
  fullName: string,
  prepared: OutgoingMessage,
  large: LargePayloadsOptions | undefined,
  trace: SendTrace | undefined,
): Promise<OutgoingMessage> {
  let outgoing = prepared;
  checkReservedAttributes(outgoing.entry.MessageAttributes ?? {}, fullName);
  const maxBytes = Math.min(await producer.maxSize(queueUrl, fullName), SQS_LIMITS.maxMessageBytes);
  if (large && shouldOffload(large, outgoing.bytes, maxBytes)) {
    offloader ??= import("../payloads/offload.js");
    const checkSize = (bytes: number) => producer.checkSize(queueUrl, fullName, bytes);
    outgoing = await (await offloader).offload(outgoing, large, fullName, checkSize);
  }
  await producer.checkSize(queueUrl, fullName, outgoing.bytes);
  if (!trace) return outgoing;
  const { attributes, bytes } = (await sendTracing()).withTraceAttributes(
    { attributes: outgoing.entry.MessageAttributes, bytes: outgoing.bytes },
    trace,
    maxBytes,
  );
  return attributes ? { entry: { ...outgoing.entry, MessageAttributes: attributes }, bytes } : outgoing;
}

/** The offload module, imported at the first send that goes through S3. */
let offloader: Promise<typeof import("../payloads/offload.js")> | undefined;

/**
 * Schema check, encoding and option checks: everything that can refuse a body before any request. With
 * `offloading`, a body past SQS's ceiling is not refused here: it may go to S3.
 */
async function prepare<T, TSend>(
  queue: RegisteredQueue<T, TSend>,
  fullName: string,
  body: TSend,
  options: SendOptions,
  offloading: boolean,
): Promise<OutgoingMessage> {
  // The schema checks what the caller passed; the body sent is that value as given, not the schema's output,
  // because the receiving side runs the same schema on it again.
  if (queue.options.schema) await validateWithSchema(queue.options.schema, body, `send to ${fullName}`);
  const messageBody = queue.codec.encode(body);
  const problems: FieldProblem[] = [];
  if (messageBody.length === 0)
    problems.push({ path: "body", rule: "must not encode to an empty string", received: "" });
  const delay = options.delaySeconds;
  if (delay !== undefined && (!Number.isInteger(delay) || delay < 0 || delay > SQS_LIMITS.maxDelaySeconds)) {
    problems.push({
      path: "delaySeconds",
      rule: `must be an integer 0..${SQS_LIMITS.maxDelaySeconds}`,
      received: delay,
    });
  }
  if (problems.length > 0) throw new ValidationError(`send to ${fullName}`, problems);
  // Without the trace context, which goes on only once the message is known to fit (see fitQueue).
  const attributes = options.messageAttributes ? toWireAttributes(options.messageAttributes) : undefined;
  const bytes = Buffer.byteLength(messageBody, "utf8") + attributeBytes(attributes);
  // Over SQS's own ceiling: refused before any request, even the queue-URL look-up. A queue's lower
  // MaximumMessageSize is checked once its URL is known.
  if (!offloading && bytes > SQS_LIMITS.maxMessageBytes)
    throw new MessageTooLargeError(fullName, bytes, SQS_LIMITS.maxMessageBytes);
  return {
    entry: {
      MessageBody: messageBody,
      ...(delay === undefined ? {} : { DelaySeconds: delay }),
      ...(attributes ? { MessageAttributes: attributes } : {}),
      ...(queue.fifo ? { MessageGroupId: options.groupId ?? DEFAULT_FIFO_GROUP_ID } : {}),
      ...(options.deduplicationId === undefined ? {} : { MessageDeduplicationId: options.deduplicationId }),
    },
    bytes,
  };
}

/** Converts the friendly attribute forms (`"x"`, `42`) into SQS's wire shape. */
export function toWireAttributes(
  attributes: Readonly<Record<string, SendAttributeValue>>,
): Record<string, MessageAttributeValue> {
  const wire: Record<string, MessageAttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === "string") wire[key] = { DataType: "String", StringValue: value };
    else if (typeof value === "number") wire[key] = { DataType: "Number", StringValue: String(value) };
    else {
      wire[key] = {
        DataType: value.dataType,
        ...(value.stringValue === undefined ? {} : { StringValue: value.stringValue }),
        ...(value.binaryValue === undefined ? {} : { BinaryValue: value.binaryValue }),
      };
    }
  }
  return wire;
}

/** Message attributes count toward SQS's size limit: name, data type and value of each. */
function attributeBytes(attributes: Record<string, MessageAttributeValue> | undefined): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value.DataType ?? "", "utf8");
    bytes += value.StringValue === undefined ? 0 : Buffer.byteLength(value.StringValue, "utf8");
    bytes += value.BinaryValue?.byteLength ?? 0;
  }
  return bytes;
}

/**
 * The send span's module, imported at the first send: it loads `@opentelemetry/api`, which a pool thread whose
 * handlers never send (or an app that sends nothing) need not hold.
 */
let sendTracingModule: Promise<typeof import("../telemetry/send.js")> | undefined;

function sendTracing(): Promise<typeof import("../telemetry/send.js")> {
  sendTracingModule ??= import("../telemetry/send.js");
  return sendTracingModule;
}

/** The producer-client module, imported once, at the first send. */
let producerClient: Promise<typeof import("../sqs/producer-client.js")> | undefined;

/** This thread's producer; the first call loads the AWS SDK. */
async function currentProducer(): Promise<Producer> {
  producerClient ??= import("../sqs/producer-client.js");
  return (await producerClient).currentProducer();
}
