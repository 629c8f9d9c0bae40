/** `code` carried by every {@link RateLimited}; the worker classifies thrown values by it. */
export const RATE_LIMITED_CODE = "SQSD_RATE_LIMITED";

/** Options for {@link RateLimited}. */
export interface RateLimitedOptions {
  /**
   * Seconds the queue stops receiving, and after which the message comes back (1..43200; an HTTP 429's
   * `Retry-After`).
   */
  readonly retryAfterSeconds: number;
  /** A short reason, logged at info level with the message id. */
  readonly reason?: string;
}

/**
 * Throw this from a handler when the API it calls says "slow down" (an HTTP 429): the queue (all its
 * suffixes) stops receiving for `retryAfterSeconds`, and this message comes back after that long (a visibility
 * change). It is not a failure: it counts toward no retry policy of sqsd's and is logged at info level.
 *
 * @example
 * ```ts
 * receiver("emails", async (message) => {
 *   const response = await fetch(api, { method: "POST", body: JSON.stringify(message.body) });
 *   if (response.status === 429) {
 *     throw new RateLimited({ retryAfterSeconds: Number(response.headers.get("retry-after") ?? 10) });
 *   }
 * });
 * ```
 */
export class RateLimited extends Error {
  override readonly name = "RateLimited";
  /** Classifies the error across module copies and threads, where `instanceof` cannot. */
  readonly code = RATE_LIMITED_CODE;
  readonly retryAfterSeconds: number;
  constructor(options: RateLimitedOptions) {
    super(options.reason ?? "rate limited");
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** True for a {@link RateLimited} from any copy of sqsd, by its `code`. */
export function isRateLimited(error: unknown): error is RateLimited {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === RATE_LIMITED_CODE;
}

/**
 * The queue's pause and the message's delay for a thrown {@link RateLimited}: whole seconds within SQS's
 * visibility bounds (1..43200), so a bad value neither hides the message for ever nor spins.
 */
export function retryAfterSeconds(error: RateLimited): number {
  const seconds = Number(error.retryAfterSeconds);
  return Number.isFinite(seconds) ? Math.min(43_200, Math.max(1, Math.ceil(seconds))) : 1;
}
