import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { physicalQueue } from "../admin/physical-queues.js";
import { loggableDecodeError } from "../codecs/errors.js";
import { errorSummary, QueueNotFoundError, UsageError } from "../errors.js";
import { SQS_LIMITS } from "../limits.js";
import { getRegistry } from "../registry/registry.js";
import type { RegisteredQueue } from "../registry/types.js";
import { openCommandContext, type CommandOptions } from "./context.js";

/** Options of `sqsd peek`. */
export interface PeekOptions extends CommandOptions {
  readonly queue: string;
  readonly suffix?: string | undefined;
  /** How many messages to show at most. @defaultValue `10` */
  readonly count?: number | undefined;
}

/** Short enough that an interrupted peek hides nothing for long; long enough to collect distinct messages. */
const PEEK_VISIBILITY_SECONDS = 30;

/**
 * `sqsd peek`: shows up to N messages without consuming them. It receives them (so no two are the same),
 * then sets their visibility back to 0 at once. Each peek counts as a receive toward a redrive policy's
 * `maxReceiveCount`, as any SQS receive does.
 */
export async function peekCommand(options: PeekOptions): Promise<number> {
  const count = options.count ?? 10;
  if (!Number.isInteger(count) || count < 1 || count > 100)
    throw new UsageError(`-n must be an integer 1..100, got ${count}`);
  const context = await openCommandContext(options);
  try {
    const queue = getRegistry().get(options.queue);
    const fullName = physicalQueue(queue, options.suffix, context.config).fullName;
    const url = await context.urls.resolve(fullName).catch((error: unknown) => {
      throw error instanceof QueueNotFoundError ? new UsageError(error.message) : error;
    });
    const messages = await collect(context.client, url, count);
    await release(context.client, url, messages);
    const shown = await Promise.all(messages.map((message) => describe(queue, message)));
    if (shown.length === 0) context.output.text(`${fullName}: no visible messages`);
    for (const message of shown) {
      context.output.text(
        `${message.id}  receive count ${message.receiveCount}  sent ${message.sentAt}${Object.keys(message.attributes).length > 0 ? `  attributes ${JSON.stringify(message.attributes)}` : ""}`,
        `  ${message.error ? `(does not decode: ${message.error})` : JSON.stringify(message.body)}`,
      );
    }
    context.output.result({ queue: fullName, messages: shown });
    return 0;
  } finally {
    context.close();
  }
}

async function collect(client: SQSClient, url: string, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  while (messages.length < count) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(SQS_LIMITS.maxBatchEntries, count - messages.length),
        WaitTimeSeconds: 1,
        VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) break;
    messages.push(...Messages);
  }
  return messages;
}

async function release(client: SQSClient, url: string, messages: readonly Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += SQS_LIMITS.maxBatchEntries) {
    await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: messages.slice(start, start + SQS_LIMITS.maxBatchEntries).map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** A message as peek shows it: decoded by the queue's codec, or its reference for model-instance messages. */
async function describe(queue: RegisteredQueue, message: Message) {
  const context = { messageId: message.MessageId ?? "", messageAttributes: {} };
  const body = message.Body ?? "";
  let decoded: unknown;
  let error: string | undefined;
  try {
    // A reference is shown as it is: loading rows is the handler's business, not a peek's.
    decoded = queue.codec.reference ? queue.codec.reference(body, context) : await queue.codec.decode(body, context);
  } catch (failure) {
    // The reason only: peek shows bodies on purpose, but a custom codec's error text is not a body view.
    error = errorSummary(loggableDecodeError(failure));
  }
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(message.MessageAttributes ?? {})) {
    attributes[key] = value.StringValue ?? `(${value.DataType ?? "binary"})`;
  }
  return {
    id: message.MessageId ?? "",
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    sentAt: new Date(Number(message.Attributes?.SentTimestamp ?? 0)).toISOString(),
    attributes,
    rawBody: body,
    body: decoded,
    ...(error === undefined ? {} : { error }),
  };
}
