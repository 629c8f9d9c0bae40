import { CreateQueueCommand, GetQueueUrlCommand, QueueDoesNotExist, type SQSClient } from "@aws-sdk/client-sqs";
import { QueueNotFoundError, SqsRequestError } from "../errors.js";
import { isFifoName } from "../queue-names.js";

/** Attributes given to a queue that sqsd creates. */
export interface NewQueueAttributes {
  readonly visibilityTimeoutSeconds?: number | undefined;
  readonly messageRetentionSeconds?: number | undefined;
}

/**
 * Resolves full queue names to URLs, once per name (a GetQueueUrl per send would double the bill), and creates
 * missing queues when asked to. Looks first and creates second, so an existing queue whose attributes differ
 * never fails the way django-sqs's bare CreateQueue did.
 */
export class QueueUrls {
  readonly #client: SQSClient;
  readonly #createQueues: boolean;
  readonly #endpointLabel: string;
  readonly #cache = new Map<string, Promise<string>>();

  constructor(client: SQSClient, options: { createQueues: boolean; endpointLabel: string }) {
    this.#client = client;
    this.#createQueues = options.createQueues;
    this.#endpointLabel = options.endpointLabel;
  }

  /** The queue's URL; creates the queue when it is missing and creation is on. */
  resolve(fullName: string, attributes: NewQueueAttributes = {}): Promise<string> {
    return this.#cached(fullName, () => this.#lookUp(fullName, this.#createQueues ? attributes : undefined));
  }

  /**
   * The URL of a queue that exists; never creates one, whatever `createQueues` says. For readers (status pages,
   * metrics, start-up checks): looking at a queue must not bring it into being.
   */
  find(fullName: string): Promise<string> {
    return this.#cached(fullName, () => this.#lookUp(fullName, undefined));
  }

  #cached(fullName: string, lookUp: () => Promise<string>): Promise<string> {
    let url = this.#cache.get(fullName);
    if (!url) {
      url = lookUp();
      // A failed look-up is not cached: the next caller tries again (the queue may have been created since).
      url.catch(() => this.#cache.delete(fullName));
      this.#cache.set(fullName, url);
    }
    return url;
  }

  /** GetQueueUrl; when the queue is missing, creates it with `createWith`, if given. */
  async #lookUp(fullName: string, createWith: NewQueueAttributes | undefined): Promise<string> {
    try {
      const { QueueUrl } = await this.#client.send(new GetQueueUrlCommand({ QueueName: fullName }));
      if (QueueUrl) return QueueUrl;
    } catch (error) {
      if (!(error instanceof QueueDoesNotExist))
        throw new SqsRequestError("GetQueueUrl", error, { queueUrl: fullName });
    }
    if (!createWith) throw new QueueNotFoundError(fullName, this.#endpointLabel);
    return this.#create(fullName, createWith);
  }

  async #create(fullName: string, attributes: NewQueueAttributes): Promise<string> {
    const queueAttributes: Record<string, string> = {};
    if (attributes.visibilityTimeoutSeconds !== undefined) {
      queueAttributes["VisibilityTimeout"] = String(attributes.visibilityTimeoutSeconds);
    }
    if (attributes.messageRetentionSeconds !== undefined) {
      queueAttributes["MessageRetentionPeriod"] = String(attributes.messageRetentionSeconds);
    }
    if (isFifoName(fullName)) queueAttributes["FifoQueue"] = "true";
    try {
      const { QueueUrl } = await this.#client.send(
        new CreateQueueCommand({ QueueName: fullName, Attributes: queueAttributes }),
      );
      if (!QueueUrl) throw new Error("CreateQueue returned no QueueUrl");
      return QueueUrl;
    } catch (error) {
      throw new SqsRequestError("CreateQueue", error, { queueUrl: fullName });
    }
  }
}
