/**
 * Where a queue's receive tokens are counted: in this process ({@link LocalLimiter}) or in a store every
 * replica shares. A receive reserves tokens before it is sent and settles them when it returns, so no message
 * is received before a token allowed it (see {@link TokenBucket}).
 */
export interface ReceiveLimiter {
  /** Tokens per second (a per-minute limit is divided by 60). */
  readonly perSecond: number;
  readonly burst: number;
  /** Whether the count is shared with other replicas through a store. */
  readonly shared: boolean;
  /**
   * Reserves up to `max` tokens for a receive; resolves to how many (0 when none is available now, or when
   * `signal` aborts while a store is asked).
   */
  reserve(max: number, signal?: AbortSignal): number | Promise<number>;
  /** A receive that reserved `reserved` tokens brought `received` messages; the rest go back. */
  settle(reserved: number, received: number): void;
  /**
   * Resolves when a token may be available (after a reserve that got none), or when `signal` aborts. Never
   * rejects.
   */
  nextToken(signal: AbortSignal): Promise<void>;
  /** Releases what the limiter holds (a store connection). */
  close(): Promise<void>;
}
