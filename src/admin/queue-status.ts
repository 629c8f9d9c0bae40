import { GetQueueAttributesCommand, QueueDoesNotExist, type SQSClient } from "@aws-sdk/client-sqs";
import { QueueNotFoundError, SqsRequestError } from "../errors.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import type { QueueUrls } from "../sqs/queue-urls.js";

/** Message counts of one queue, as SQS approximates them. */
export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** One queue's status; a queue that does not exist has `exists: false` and zero counts. */
export interface QueueStatus extends QueueCounts {
  readonly name: string;
  readonly exists: boolean;
  /** Set when the queue has a redrive policy: where failed messages go, and how deep that queue is. */
  readonly deadLetter: (QueueCounts & { readonly name: string; readonly maxReceiveCount: number }) | undefined;
  /** The queue's visibility timeout in SQS, when it exists. */
  readonly visibilityTimeoutSeconds: number | undefined;
}

const COUNT_ATTRIBUTES = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
] as const;

/** Status reads under way at once. */
const STATUS_READS_AT_ONCE = 16;

/** Reads the status of each named queue (one GetQueueAttributes each, plus one per dead-letter queue). */
export async function readQueueStatus(
  client: SQSClient,
  urls: QueueUrls,
  names: readonly string[],
): Promise<QueueStatus[]> {
  // A request each, a few at a time: a thousand at once would wait for sockets past the connection timeout.
  return mapWithConcurrency(names, STATUS_READS_AT_ONCE, (name) => readOne(client, urls, name));
}

async function readOne(client: SQSClient, urls: QueueUrls, name: string): Promise<QueueStatus> {
  const attributes = await readAttributes(client, urls, name, [
    ...COUNT_ATTRIBUTES,
    "RedrivePolicy",
    "VisibilityTimeout",
  ]);
  if (!attributes) {
    return {
      name,
      exists: false,
      visible: 0,
      inFlight: 0,
      delayed: 0,
      deadLetter: undefined,
      visibilityTimeoutSeconds: undefined,
    };
  }
  const redrive = parseRedrivePolicy(attributes["RedrivePolicy"]);
  let deadLetter: QueueStatus["deadLetter"];
  if (redrive) {
    const dlqAttributes = await readAttributes(client, urls, redrive.deadLetterQueueName, [...COUNT_ATTRIBUTES]);
    deadLetter = {
      name: redrive.deadLetterQueueName,
      maxReceiveCount: redrive.maxReceiveCount,
      ...counts(dlqAttributes ?? {}),
    };
  }
  return {
    name,
    exists: true,
    ...counts(attributes),
    deadLetter,
    visibilityTimeoutSeconds: Number(attributes["VisibilityTimeout"]),
  };
}

/** A queue's attributes, or undefined when the queue does not exist. */
export async function readAttributes(
  client: SQSClient,
  urls: QueueUrls,
  name: string,
  attributeNames: readonly string[],
): Promise<Record<string, string> | undefined> {
  let url: string;
  try {
    url = await urls.find(name);
  } catch (error) {
    if (error instanceof QueueNotFoundError) return undefined;
    throw error;
  }
  try {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: attributeNames as never }),
    );
    return Attributes ?? {};
  } catch (error) {
    if (error instanceof QueueDoesNotExist) return undefined;
    throw new SqsRequestError("GetQueueAttributes", error, { queueUrl: url });
  }
}

function counts(attributes: Record<string, string>): QueueCounts {
  return {
    visible: Number(attributes["ApproximateNumberOfMessages"] ?? 0),
    inFlight: Number(attributes["ApproximateNumberOfMessagesNotVisible"] ?? 0),
    delayed: Number(attributes["ApproximateNumberOfMessagesDelayed"] ?? 0),
  };
}

/** A queue's redrive policy: its dead-letter queue (by name, from the ARN) and the receive limit. */
export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly deadLetterQueueName: string;
  readonly maxReceiveCount: number;
}

/** Parses the RedrivePolicy attribute; undefined when absent or unreadable. */
export function parseRedrivePolicy(text: string | undefined): RedrivePolicy | undefined {
  if (!text) return undefined;
  try {
    const policy = JSON.parse(text) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    if (typeof policy.deadLetterTargetArn !== "string") return undefined;
    return {
      deadLetterTargetArn: policy.deadLetterTargetArn,
      deadLetterQueueName: policy.deadLetterTargetArn.split(":").pop() ?? "",
      maxReceiveCount: Number(policy.maxReceiveCount),
    };
  } catch {
    // An unreadable policy is shown as none; `sqsd init` reports the drift.
    return undefined;
  }
}

/** A status read and when it was made. */
export interface QueueStatusSnapshot {
  readonly asOf: Date;
  readonly queues: QueueStatus[];
}

/** What {@link CachedQueueStatus.latest} serves: a snapshot, and whether it is the last good one in place of a fresh read. */
export interface LatestQueueStatus extends QueueStatusSnapshot {
  /** True when SQS failed or did not answer in time, so this is the last good read, older than the TTL. */
  readonly stale: boolean;
}

/**
 * How long a status page or scrape waits for fresh queue counts before it serves the last good ones: well
 * inside Prometheus's default 10 s scrape timeout, and short enough for a person at a status page.
 */
export const STATUS_WAIT_MS = 2_000;

/**
 * Queue status read at most once per `ttlMs`, however often it is asked for: status pages and metric scrapes
 * then cost a fixed number of SQS requests per minute. At most one read is under way at a time: while SQS
 * hangs, requests do not pile up more reads behind the one already waiting.
 */
export class CachedQueueStatus {
  readonly #read: () => Promise<QueueStatus[]>;
  readonly #ttlMs: number;
  #cached: { asOf: Date; queues: Promise<QueueStatus[]>; settled: boolean } | undefined;
  #lastGood: QueueStatusSnapshot | undefined;
  #visibleIndex: { snapshot: QueueStatusSnapshot; byName: Map<string, number> } | undefined;

  readonly #onReadFailed: (error: unknown) => void;

  /**
   * `onReadFailed` hears each read that failed (the pages then serve the last good one): the daemon logs it,
   * rate-limited, so that a lasting failure (a missing sqs:GetQueueAttributes, say) is not silent.
   */
  constructor(read: () => Promise<QueueStatus[]>, ttlMs: number, onReadFailed: (error: unknown) => void = () => {}) {
    this.#read = read;
    this.#ttlMs = ttlMs;
    this.#onReadFailed = onReadFailed;
  }

  /** The status, fresh or at most `ttlMs` old, with the time it was read. */
  async get(now = Date.now()): Promise<QueueStatusSnapshot> {
    // A read still under way is shared even past the TTL (the client's request timeout bounds it): while SQS
    // hangs, every status request would otherwise start another read that hangs too.
    const expired = this.#cached && this.#cached.settled && now - this.#cached.asOf.getTime() >= this.#ttlMs;
    if (!this.#cached || expired) {
      const asOf = new Date(now);
      const queues = this.#read();
      const cached = { asOf, queues, settled: false };
      this.#cached = cached;
      queues.then(
        (read) => {
          cached.settled = true;
          if (!this.#lastGood || this.#lastGood.asOf <= asOf) this.#lastGood = { asOf, queues: read };
        },
        // A failed read is not cached: the next request tries again.
        (error: unknown) => {
          cached.settled = true;
          if (this.#cached === cached) this.#cached = undefined;
          this.#onReadFailed(error);
        },
      );
    }
    return { asOf: this.#cached.asOf, queues: await this.#cached.queues };
  }

  /** The last good read, without reading SQS; undefined before the first. */
  get lastGood(): QueueStatusSnapshot | undefined {
    return this.#lastGood;
  }

  /**
   * A queue's visible count in the last good read, and when that was read (epoch ms), without reading SQS.
   * A map look-up: the daemon's stall check asks for every queue every second.
   */
  visible(name: string): { count: number; asOf: number } | undefined {
    const snapshot = this.#lastGood;
    if (!snapshot) return undefined;
    if (this.#visibleIndex?.snapshot !== snapshot) {
      this.#visibleIndex = { snapshot, byName: new Map(snapshot.queues.map((queue) => [queue.name, queue.visible])) };
    }
    const count = this.#visibleIndex.byName.get(name);
    return count === undefined ? undefined : { count, asOf: snapshot.asOf.getTime() };
  }

  /**
   * For scrapes: the status if it can be had within `waitMs`, else the last good read (older than the TTL, as
   * its `asOf` says), else undefined. Never throws: a metrics scrape must not fail, nor outlast the scraper's
   * timeout, because SQS is slow or unreachable; that is when its other metrics matter most.
   */
  async latest(waitMs: number, now = Date.now()): Promise<LatestQueueStatus | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)));
    try {
      const fresh = await Promise.race([this.get(now).catch(() => undefined), gaveUp]);
      if (fresh) return { ...fresh, stale: false };
      return this.#lastGood && { ...this.#lastGood, stale: true };
    } finally {
      clearTimeout(timer);
    }
  }
}
