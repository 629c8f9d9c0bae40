import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Codec, CodecName, MessageAttribute, ModelRef } from "../codecs/codec.js";
import type { DeadLetterOptions, LargePayloadsOptions, RetryOptions } from "../config/types.js";
import type { IdempotencyOptions } from "../idempotency/types.js";
import type { MessagePayload } from "../payloads/pointer.js";

/** What happens to a message whose handler throws (anything but {@link RestartLater}). */
export type OnErrorPolicy = "retry" | "delete";

/**
 * Options of `receiver()` and `register()`. Every option has a default. `T` is the body handlers receive,
 * `TSend` what senders pass (the same unless the codec or schema says otherwise).
 */
export interface ReceiverOptions<T = unknown, TSend = T> {
  /** Seconds a received message stays hidden while its handler runs (0..43200). @defaultValue config `defaults.visibilityTimeoutSeconds` (60) */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Delete the message before the handler runs: at-most-once delivery. A handler that then fails loses the
   * message. @defaultValue `false`
   */
  readonly deleteOnStart?: boolean;
  /** Known queue-name suffixes (`name__suffix`); the daemon consumes each. An unknown one warns. @defaultValue `[]` */
  readonly suffixes?: readonly string[];
  /** Most messages of this queue (all suffixes together) running at once. @defaultValue the pool's capacity */
  readonly concurrency?: number;
  /**
   * This queue's share of free pool slots while several queues have messages waiting (1..1000): a queue with
   * weight 3 starts three messages for each one of a queue with weight 1. Each suffixed variant has this
   * weight. @defaultValue `1`
   */
  readonly weight?: number;
  /**
   * `"retry"` leaves a failed message for redelivery after its visibility timeout (a redrive policy ends the
   * retries). `"delete"` deletes it, as django-sqs did: the message is lost. @defaultValue `"retry"`
   */
  readonly onError?: OnErrorPolicy;
  /** Body format: `"json"`, `"raw"`, `"base64"`, `"base64json"`, or a codec object. @defaultValue `"json"` */
  readonly codec?: CodecName | Codec<T, TSend>;
  /**
   * A Standard Schema validator (zod, valibot, arktype, ...). Sending checks the body against it before any
   * request; receiving checks the decoded body and treats a mismatch as a decode error. Handlers get the
   * schema's output. @defaultValue none
   */
  readonly schema?: StandardSchemaV1<TSend, T>;
  /**
   * This queue's dead-letter queue, which `sqsd init` creates with the redrive policy that feeds it; `false`
   * for none. @defaultValue config `defaults.deadLetter`
   */
  readonly deadLetter?: false | DeadLetterOptions;
  /**
   * When a failed message comes back: exponential backoff or a list of delays, applied with
   * ChangeMessageVisibility. @defaultValue config `defaults.retry` (else after the visibility timeout)
   */
  readonly retry?: false | RetryOptions;
  /**
   * Longest a handler may run. Past it, `message.signal` aborts; if the handler has not ended a second later,
   * its thread is terminated (piscina starts a new one). The message then follows `onError`. @defaultValue none
   */
  readonly timeoutMs?: number;
  /** Runs once in each worker thread before its first message of this queue (open a database pool here). */
  readonly setup?: () => unknown;
  /** Runs once in each worker thread where `setup` ran, when the pool shuts down (close that pool here). */
  readonly teardown?: () => unknown;
  /**
   * This queue's large-payload settings, replacing the config's `largePayloads` as a whole (fields are not
   * merged); `false` turns offloading off for this queue. @defaultValue config `largePayloads`
   */
  readonly largePayloads?: false | LargePayloadsOptions;
  /**
   * Run each key's effect once through a shared store (see docs/reliability.md): a delivery whose key completed
   * is settled as a duplicate without running the handler; one whose key another delivery holds is left for
   * later. Not on batch handlers. @defaultValue none (every delivery runs the handler)
   */
  readonly idempotency?: IdempotencyOptions<T>;
  /**
   * A limit on the messages this queue receives (all suffixes together), applied before each receive: a queue
   * out of tokens asks for fewer messages or waits, so no received message waits for a token. See "Rate
   * limits" in docs/operations.md. @defaultValue none
   */
  readonly rateLimit?: RateLimitOptions;
}

/** A receiver's `rateLimit`: give exactly one of `perSecond` and `perMinute`. */
export interface RateLimitOptions {
  /** Messages per second (0.001..100000). */
  readonly perSecond?: number;
  /** Messages per minute (0.06..6000000). */
  readonly perMinute?: number;
  /**
   * Most messages received at once after a quiet spell (1..100000): in any window of `w` seconds the queue
   * receives at most `rate × w + burst`. @defaultValue the rate per second rounded up, at least 1
   */
  readonly burst?: number;
  /**
   * Count the limit in Redis, so it holds across every replica together (config `rateLimitStore`); `false`
   * counts it in each process. @defaultValue `false`
   */
  readonly shared?: boolean | "redis";
}

/** Options of `receiver.batch()`. */
export interface BatchReceiverOptions<T = unknown, TSend = T> extends ReceiverOptions<T, TSend> {
  /** Most messages per handler call (1..10). @defaultValue `10` */
  readonly batchSize?: number;
}

/** Which queue a message came from. */
export interface MessageQueue {
  /** Registered name, e.g. `thumbnails`. */
  readonly name: string;
  /** Name in SQS, e.g. `shop__thumbnails__big`. */
  readonly fullName: string;
  readonly suffix: string | undefined;
}

/** The message a handler receives. */
export interface ReceivedMessage<T = unknown> {
  /** SQS message id. */
  readonly id: string;
  /** Body decoded by the queue's codec (and checked by its schema). */
  readonly body: T;
  /** Body as it came from SQS. */
  readonly rawBody: string;
  /** For model-instance messages, the reference the body was loaded from; otherwise undefined. */
  readonly ref: ModelRef | undefined;
  /**
   * Where the body came from: `inline` in the SQS message, or an S3 object the message pointed to (the AWS
   * extended clients' format; `rawBody` is then the pointer).
   */
  readonly payload: MessagePayload;
  /** System attributes (`SentTimestamp`, `ApproximateReceiveCount`, `MessageGroupId`, ...). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, MessageAttribute>>;
  /** 1 on first delivery, 2 on the first redelivery, and so on. */
  readonly receiveCount: number;
  readonly queue: MessageQueue;
  /** When the producer sent it. */
  readonly sentAt: Date;
  /**
   * Aborted when the handler must stop: its `timeoutMs` passed, or the daemon is shutting down hard (drain
   * timeout). Pass it to your I/O.
   */
  readonly signal: AbortSignal;
  /**
   * Keeps the message hidden for at least `seconds` more from now (0..43200, within SQS's 12 hours from
   * receipt); it never shortens what is already granted. The daemon already extends the visibility of
   * long-running handlers on its own; call this to ask for more at once. Resolves once SQS has accepted it.
   */
  extendVisibility(seconds: number): Promise<void>;
}

/** A receiver function. Returning (or resolving) means success and deletes the message. */
export type Handler<T = unknown> = (message: ReceivedMessage<T>) => unknown;

/** What a batch handler reports: the messages that failed (Lambda's shape). The others are deleted. */
export interface BatchResult {
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
}

/**
 * A batch receiver function. It gets up to `batchSize` messages; returning nothing deletes them all, returning
 * {@link BatchResult} leaves the listed ones (by message id) in the queue, and throwing leaves every one.
 */
export type BatchHandler<T = unknown> = (
  messages: readonly ReceivedMessage<T>[],
) => BatchResult | void | undefined | Promise<BatchResult | void | undefined>;

/** A message attribute value to send: a string, a number, or the explicit form. */
export type SendAttributeValue = string | number | MessageAttribute;

/** Options for one send. */
export interface SendOptions {
  /** Send to `name__suffix`. @defaultValue none */
  readonly suffix?: string;
  /** Seconds before the message becomes visible (0..900; not on FIFO queues). @defaultValue the queue's delay */
  readonly delaySeconds?: number;
  /** @defaultValue `{}` */
  readonly messageAttributes?: Readonly<Record<string, SendAttributeValue>>;
  /** FIFO queues: the message group. @defaultValue `"default"` on FIFO queues */
  readonly groupId?: string;
  /** FIFO queues: the deduplication id. @defaultValue none (the queue's content-based deduplication applies) */
  readonly deduplicationId?: string;
}

/** A queue known to the registry: what `receiver()`, `receiver.batch()` and `register()` create. */
export interface RegisteredQueue<T = unknown, TSend = T> {
  /** Registered name, without prefix or suffix. */
  readonly name: string;
  /** Full name in SQS under the current prefix and no suffix. */
  readonly fullName: string;
  /** Full name in SQS for a suffix. */
  fullNameFor(suffix?: string): string;
  readonly fifo: boolean;
  readonly options: Readonly<BatchReceiverOptions<T, TSend>>;
  readonly codec: Codec<T, TSend>;
  /** The handler: one message at a time, a batch, or none for a send-only queue. */
  readonly handler:
    | { readonly kind: "single"; readonly run: Handler<T> }
    | { readonly kind: "batch"; readonly run: BatchHandler<T>; readonly batchSize: number }
    | undefined;
}

/** What `receiver()` returns: call it to send, as django-sqs's decorated function did. */
export interface ReceiverProxy<T = unknown, TSend = T> {
  /** Sends `body` to the queue; resolves with the SQS message id. */
  (body: TSend, options?: SendOptions): Promise<string>;
  /** The same as calling the proxy. */
  send(body: TSend, options?: SendOptions): Promise<string>;
  /** Calls the handler in this process with a message built from `message` (for tests). */
  direct(message: DirectMessage<T>): Promise<unknown>;
  readonly queue: RegisteredQueue<T, TSend>;
}

/** What `receiver.batch()` returns: it sends like a proxy; `direct` takes a list of messages. */
export interface BatchReceiverProxy<T = unknown, TSend = T> {
  /** Sends `body` to the queue; resolves with the SQS message id. */
  (body: TSend, options?: SendOptions): Promise<string>;
  /** The same as calling the proxy. */
  send(body: TSend, options?: SendOptions): Promise<string>;
  /** Calls the batch handler in this process with messages built from `messages` (for tests). */
  direct(messages: readonly DirectMessage<T>[]): Promise<BatchResult | void | undefined>;
  readonly queue: RegisteredQueue<T, TSend>;
}

/** A message for `direct()`: only the body is needed; the rest gets test defaults. */
export type DirectMessage<T> = Partial<Omit<ReceivedMessage<T>, "body" | "queue" | "extendVisibility">> & {
  readonly body: T;
  readonly suffix?: string;
};
