import {
  SendMessageCommand,
  type MessageAttributeValue,
  type SendMessageCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { SqsRequestError, ValidationError } from "../errors.js";
import { SQS_LIMITS } from "../limits.js";
import { getRegistry } from "../registry/registry.js";
import type { RegisteredQueue, SendAttributeValue, SendOptions } from "../registry/types.js";
import { createSqsClient } from "./client.js";
import { QueueUrls } from "./queue-urls.js";
import { currentSqsSettings, settingsGeneration } from "./settings.js";

/** Group id used for FIFO sends that name none. */
export const DEFAULT_FIFO_GROUP_ID = "default";

/**
 * Sends `body` to the queue registered as `name`, encoded by its codec; resolves with the SQS message id.
 * Works in the daemon's threads and in any other process (see `configureSqs`).
 *
 * @example
 * ```ts
 * await send("thumbnails", { imageId: 7 }, { suffix: "big", delaySeconds: 10 });
 * ```
 */
export async function send(name: string, body: unknown, options?: SendOptions): Promise<string> {
  return sendToQueue(getRegistry().get(name), body, options);
}

/** Sends to a registered queue; the proxies and {@link send} share it. */
export async function sendToQueue<T>(queue: RegisteredQueue<T>, body: T, options: SendOptions = {}): Promise<string> {
  const fullName = queue.fullNameFor(options.suffix);
  const messageBody = queue.codec.encode(body);
  checkSendOptions(fullName, messageBody, options);
  const { client, urls } = producerContext();
  const queueUrl = await urls.resolve(fullName, { visibilityTimeoutSeconds: queue.options.visibilityTimeoutSeconds });
  const input: SendMessageCommandInput = {
    QueueUrl: queueUrl,
    MessageBody: messageBody,
    ...(options.delaySeconds === undefined ? {} : { DelaySeconds: options.delaySeconds }),
    ...(options.messageAttributes ? { MessageAttributes: toWireAttributes(options.messageAttributes) } : {}),
    ...(queue.fifo ? { MessageGroupId: options.groupId ?? DEFAULT_FIFO_GROUP_ID } : {}),
    ...(options.deduplicationId === undefined ? {} : { MessageDeduplicationId: options.deduplicationId }),
  };
  try {
    const { MessageId } = await client.send(new SendMessageCommand(input));
    return MessageId ?? "";
  } catch (error) {
    throw new SqsRequestError("SendMessage", error, { queueUrl });
  }
}

function checkSendOptions(fullName: string, body: string, options: SendOptions): void {
  const problems = [];
  const bytes = Buffer.byteLength(body, "utf8");
  if (bytes === 0 || bytes > SQS_LIMITS.maxMessageBytes) {
    problems.push({
      path: "body",
      rule: `must encode to 1..${SQS_LIMITS.maxMessageBytes} bytes`,
      received: `${bytes} bytes`,
    });
  }
  const delay = options.delaySeconds;
  if (delay !== undefined && (!Number.isInteger(delay) || delay < 0 || delay > SQS_LIMITS.maxDelaySeconds)) {
    problems.push({
      path: "delaySeconds",
      rule: `must be an integer 0..${SQS_LIMITS.maxDelaySeconds}`,
      received: delay,
    });
  }
  if (problems.length > 0) throw new ValidationError(`send to ${fullName}`, problems);
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

let context: { generation: number; client: SQSClient; urls: QueueUrls } | undefined;

/** This thread's client and URL cache, rebuilt when `configureSqs` changes the settings. */
function producerContext(): { client: SQSClient; urls: QueueUrls } {
  const generation = settingsGeneration();
  if (context?.generation !== generation) {
    context?.client.destroy();
    const settings = currentSqsSettings();
    const client = createSqsClient(settings);
    context = {
      generation,
      client,
      urls: new QueueUrls(client, {
        createQueues: settings.createQueues,
        endpointLabel: settings.endpoint ?? settings.region,
      }),
    };
  }
  return context;
}
