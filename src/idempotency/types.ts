/**
 * What an idempotent receiver declares (`idempotency` in its options), and what a store must do for it. The
 * records follow Powertools' idempotency utility (status `INPROGRESS`/`COMPLETED`, an expiry in seconds, an
 * in-progress expiry in milliseconds, the stored result), so every store can hold what a Lambda function
 * using Powertools writes, and the DynamoDB store uses its table format as is.
 */

/** What {@link IdempotencyStore.begin} found. */
export type BeginResult =
  /** The key was free (or its record had expired): this delivery holds it in progress. */
  | { readonly kind: "acquired" }
  /** A handler already completed for this key; `data` is its stored result, if any. */
  | { readonly kind: "completed"; readonly data: unknown }
  /** Another delivery holds the key in progress until `untilMs` (epoch ms). */
  | { readonly kind: "inProgress"; readonly untilMs: number };

/**
 * A shared store of idempotency records. Each method is one request (or one atomic script) against the store;
 * none of them retries. Stores are created in the receiver modules, which every pool thread imports too, so a
 * store object connects lazily, at its first request, in the thread that makes it.
 */
export interface IdempotencyStore {
  /** `memory`, `redis` or `dynamodb`: for log lines and the start-up warning. */
  readonly kind: string;
  /**
   * Takes `key` in progress until `lockUntilMs` (epoch ms) with a conditional write, unless a record that has
   * not expired holds it. `expiresAtSeconds` is the record's own expiry (epoch s), set as Powertools does.
   */
  begin(key: string, lockUntilMs: number, expiresAtSeconds: number): Promise<BeginResult>;
  /**
   * Marks `key` completed until `expiresAtSeconds`, with the handler's result (`undefined`: none kept), if
   * the record is still the in-progress lock this delivery took (its `lockUntilMs`, Powertools'
   * `in_progress_expiration`); otherwise it rejects with a {@link LockLostError} and changes nothing (the
   * lock ran out and another delivery holds or completed the key).
   */
  complete(key: string, data: unknown, expiresAtSeconds: number, lockUntilMs: number): Promise<void>;
  /**
   * Deletes the record of `key`, so that a retry runs the handler: called when the handler failed. Only the
   * in-progress lock this delivery took (`lockUntilMs`) goes; another delivery's record stays.
   */
  release(key: string, lockUntilMs: number): Promise<void>;
  /** Closes the store's connection, if it opened one; the next request opens it again. */
  close?(): Promise<void>;
}

/**
 * The `idempotency` option of a receiver: each key's effect runs once while its record lasts, whatever the
 * number of deliveries, replicas and threads (with a shared store).
 */
export interface IdempotencyOptions<T = unknown> {
  /** Where the records live: `dynamoDbStore(...)`, `redisStore(...)`, or `memoryStore()` (one process only). */
  readonly store: IdempotencyStore;
  /**
   * The key of a message, from the decoded message. Return a business key (an order id) to catch a producer's
   * duplicates, which are separate SQS messages. Any JSON value; it is hashed as Powertools hashes its
   * `eventKeyJmesPath` result. @defaultValue the SQS message id, which catches SQS's own redeliveries
   */
  key?(message: { readonly id: string; readonly body: T }): unknown;
  /**
   * Prefix of every stored key (`prefix#hash`). Set it to Powertools' `keyPrefix` to share records with a
   * Lambda function. @defaultValue the queue's registered name
   */
  readonly keyPrefix?: string;
  /** How long a completed record lasts, in seconds (1..31,536,000). @defaultValue `3600` */
  readonly expiresAfterSeconds?: number;
  /**
   * Largest handler result kept in the record (its JSON, in bytes; 0 keeps none). A duplicate's outcome does
   * not use it; a Powertools function that meets the record returns it. @defaultValue `0`
   */
  readonly maxStoredResultBytes?: number;
}

/** A completion refused because the record is no longer the lock this delivery took. */
export class LockLostError extends Error {
  override readonly name = "LockLostError";
  constructor(key: string) {
    super(`idempotency record ${key} is no longer this delivery's lock (it ran out and another delivery took the key)`);
  }
}

/** Default of {@link IdempotencyOptions.expiresAfterSeconds}, as in Powertools. */
export const DEFAULT_EXPIRES_AFTER_SECONDS = 3600;
