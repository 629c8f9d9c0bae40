import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type ChangeMessageVisibilityBatchCommandInput,
  type ChangeMessageVisibilityBatchCommandOutput,
  type DeleteMessageBatchCommandInput,
  type DeleteMessageBatchCommandOutput,
  type ReceiveMessageCommandInput,
  type ReceiveMessageCommandOutput,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/**
 * How the daemon sends its three hot SQS actions (99% of its requests): `lean`, signed with the SDK's own
 * signer and sent over `node:http` with the SDK client's credentials, endpoint and retry strategy; or `sdk`,
 * through the full `SQSClient`. Every other action always goes through the full client.
 */
export type SqsTransport = "lean" | "sdk";

/** Per-call options, as the SDK's `send(command, options)` takes them. */
export interface HotCallOptions {
  /** Aborts the request (and any retry wait), rejecting with an `AbortError`. @defaultValue none */
  readonly abortSignal?: AbortSignal | undefined;
}

/**
 * `ReceiveMessage`, `DeleteMessageBatch` and `ChangeMessageVisibilityBatch`, in the SDK's own input and output
 * types, whichever transport carries them. Failures reject with what the SDK would throw for the same
 * failure (a service exception with `Code`/`name` and `$metadata.httpStatusCode`, or a network error), so
 * `SqsRequestError` and `failureKind` read them alike.
 */
export interface SqsHotPath {
  readonly transport: SqsTransport;
  receiveMessage(input: ReceiveMessageCommandInput, options?: HotCallOptions): Promise<ReceiveMessageCommandOutput>;
  deleteMessageBatch(
    input: DeleteMessageBatchCommandInput,
    options?: HotCallOptions,
  ): Promise<DeleteMessageBatchCommandOutput>;
  changeMessageVisibilityBatch(
    input: ChangeMessageVisibilityBatchCommandInput,
    options?: HotCallOptions,
  ): Promise<ChangeMessageVisibilityBatchCommandOutput>;
}

/** The hot actions through a full `SQSClient`: the SDK's whole middleware stack (`sqsTransport: "sdk"`). */
export class SdkHotPath implements SqsHotPath {
  readonly transport = "sdk";
  readonly #client: SQSClient;

  constructor(client: SQSClient) {
    this.#client = client;
  }

  receiveMessage(
    input: ReceiveMessageCommandInput,
    options: HotCallOptions = {},
  ): Promise<ReceiveMessageCommandOutput> {
    return this.#client.send(new ReceiveMessageCommand(input), sendOptions(options));
  }

  deleteMessageBatch(
    input: DeleteMessageBatchCommandInput,
    options: HotCallOptions = {},
  ): Promise<DeleteMessageBatchCommandOutput> {
    return this.#client.send(new DeleteMessageBatchCommand(input), sendOptions(options));
  }

  changeMessageVisibilityBatch(
    input: ChangeMessageVisibilityBatchCommandInput,
    options: HotCallOptions = {},
  ): Promise<ChangeMessageVisibilityBatchCommandOutput> {
    return this.#client.send(new ChangeMessageVisibilityBatchCommand(input), sendOptions(options));
  }
}

function sendOptions(options: HotCallOptions): { abortSignal?: AbortSignal } {
  return options.abortSignal ? { abortSignal: options.abortSignal } : {};
}
