/**
 * The SQS side of `send()`: the client, queue URLs, size limits and send batchers of this thread. Only
 * producer.ts loads it, at the first send: the AWS SDK costs a thread 4–5 MiB of RSS, and a pool thread whose
 * handlers never send must not pay for it.
 */
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { errorSummary, MessageTooLargeError, SqsRequestError } from "../errors.js";
import { SQS_LIMITS } from "../limits.js";
import { Batcher } from "../util/batcher.js";
import { warn } from "../warnings.js";
import { createSqsClient } from "./client.js";
import { QueueUrls } from "./queue-urls.js";
import { currentSqsSettings, endpointLabel, settingsGeneration } from "./settings.js";

/** How long a send waits for others to share its SendMessageBatch request. */
const SEND_BATCH_DELAY_MS = 2;

/** One message ready to go: its batch entry without an Id, and its size as SQS counts it. */
export interface OutgoingMessage {
  readonly entry: Omit<SendMessageBatchRequestEntry, "Id">;
  readonly bytes: number;
  /**
   * Called, without waiting, when SQS did not take the message (its entry failed, or the request threw): an
   * offloaded message removes its S3 object, which no message will ever point to.
   */
  readonly discard?: () => void;
}

/** What one entry of a SendMessageBatch came to. */
export type SendResult = { readonly messageId: string } | { readonly error: Error };

/** This thread's SQS client, queue URLs, size limits and send batchers; rebuilt when the settings change. */
export class Producer {
  readonly client: SQSClient;
  readonly urls: QueueUrls;
  readonly #maxSizes = new Map<string, Promise<number>>();
  readonly #standard: Batcher<OutgoingMessage, SendResult>;
  readonly #fifo: Batcher<OutgoingMessage, SendResult>;

  constructor() {
    const settings = currentSqsSettings();
    this.client = createSqsClient(settings);
    this.urls = new QueueUrls(this.client, {
      createQueues: settings.createQueues,
      endpointLabel: endpointLabel(settings),
    });
    const batching = {
      delayMs: SEND_BATCH_DELAY_MS,
      sizeOf: (message: OutgoingMessage) => message.bytes,
      maxBatchBytes: SQS_LIMITS.maxMessageBytes,
    };
    const execute = (queueUrl: string, messages: readonly OutgoingMessage[]) => this.#sendBatch(queueUrl, messages);
    this.#standard = new Batcher(execute, batching);
    // FIFO order holds within a request; one request at a time per queue keeps it across requests.
    this.#fifo = new Batcher(execute, { ...batching, serial: true });
  }

  batcher(fifo: boolean): Batcher<OutgoingMessage, SendResult> {
    return fifo ? this.#fifo : this.#standard;
  }

  /** Refuses a message larger than the queue's MaximumMessageSize, which is fetched once per queue. */
  async checkSize(queueUrl: string, fullName: string, bytes: number): Promise<void> {
    const maxBytes = await this.maxSize(queueUrl, fullName);
    if (bytes > maxBytes) throw new MessageTooLargeError(fullName, bytes, maxBytes);
  }

  /** The queue's MaximumMessageSize, fetched once per queue (SQS's ceiling when it cannot be read). */
  maxSize(queueUrl: string, fullName: string): Promise<number> {
    let limit = this.#maxSizes.get(queueUrl);
    if (!limit) {
      limit = this.#fetchMaxSize(queueUrl, fullName);
      this.#maxSizes.set(queueUrl, limit);
    }
    return limit;
  }

  async #fetchMaxSize(queueUrl: string, fullName: string): Promise<number> {
    try {
      const { Attributes } = await this.client.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["MaximumMessageSize"] }),
      );
      const size = Number(Attributes?.MaximumMessageSize);
      return Number.isInteger(size) && size > 0 ? size : SQS_LIMITS.maxMessageBytes;
    } catch (error) {
      // A producer may hold sqs:SendMessage without sqs:GetQueueAttributes: SQS's own ceiling still applies.
      warn(
        `cannot read MaximumMessageSize of ${fullName} (${errorSummary(error)}); checking sizes against SQS's ${SQS_LIMITS.maxMessageBytes}-byte ceiling`,
        "SQSD_MAX_SIZE_UNKNOWN",
      );
      return SQS_LIMITS.maxMessageBytes;
    }
  }

  /**
   * Sends one message in a request of its own, which `signal` aborts: a caller that must not send after its
   * deadline (a schedule's forward) cannot share a batch, whose request also carries other callers' messages.
   * An abort ends the request where it is; one SQS already took can still land.
   */
  async sendAlone(queueUrl: string, message: OutgoingMessage, signal: AbortSignal): Promise<SendResult> {
    const [result] = await this.#sendBatch(queueUrl, [message], signal);
    return result ?? { error: new Error("SendMessageBatch returned no result") };
  }

  async #sendBatch(
    queueUrl: string,
    messages: readonly OutgoingMessage[],
    signal?: AbortSignal,
  ): Promise<SendResult[]> {
    let output;
    try {
      output = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((message, index) => ({ Id: String(index), ...message.entry })),
        }),
        signal === undefined ? {} : { abortSignal: signal },
      );
    } catch (error) {
      const failure = new SqsRequestError("SendMessageBatch", error, { queueUrl });
      // Only an error answer says SQS took none of the batch. Without one (a network failure, a timeout, an
      // abort such as a schedule forward's deadline) SQS may have taken it: a large payload's object then
      // stays, or a message that did land would point at nothing.
      if (failure.httpStatus !== undefined) for (const message of messages) message.discard?.();
      return messages.map(() => ({ error: failure }));
    }
    const results: SendResult[] = messages.map(() => ({ error: new Error("SendMessageBatch returned no result") }));
    for (const success of output.Successful ?? []) results[Number(success.Id)] = { messageId: success.MessageId ?? "" };
    for (const failure of output.Failed ?? []) {
      const cause = Object.assign(new Error(`${failure.Code ?? "error"}: ${failure.Message ?? ""}`), {
        name: failure.Code ?? "Error",
        Code: failure.Code,
      });
      results[Number(failure.Id)] = { error: new SqsRequestError("SendMessageBatch", cause, { queueUrl }) };
      messages[Number(failure.Id)]?.discard?.();
    }
    return results;
  }
}

let current: { generation: number; producer: Producer } | undefined;

/** This thread's producer for the current SQS settings; a new one (and client) after they change. */
export function currentProducer(): Producer {
  const generation = settingsGeneration();
  if (current?.generation !== generation) {
    current?.producer.client.destroy();
    current = { generation, producer: new Producer() };
  }
  return current.producer;
}
