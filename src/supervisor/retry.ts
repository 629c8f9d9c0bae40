import type { RetryOptions } from "../config/types.js";
import { SQS_LIMITS } from "../limits.js";

/** Defaults of exponential retry. */
export const RETRY_DEFAULTS = { baseSeconds: 10, maxSeconds: 900 } as const;

/**
 * Seconds until a message that failed on its `receiveCount`-th delivery is tried again, or undefined to
 * leave it to its visibility timeout. Exponential: `base × 2^(receiveCount - 1)`, capped. A list: the entry
 * for this delivery, or the last one once the list runs out.
 */
export function retryDelaySeconds(retry: RetryOptions | false | undefined, receiveCount: number): number | undefined {
  if (retry === undefined || retry === false) return undefined;
  const attempt = Math.max(1, receiveCount);
  if (Array.isArray(retry)) {
    const delays = retry as readonly number[];
    return delays[Math.min(attempt, delays.length) - 1];
  }
  const { baseSeconds = RETRY_DEFAULTS.baseSeconds, maxSeconds = RETRY_DEFAULTS.maxSeconds } = retry as Exclude<
    RetryOptions,
    readonly number[]
  >;
  const delay = Math.min(maxSeconds, baseSeconds * 2 ** Math.min(attempt - 1, 30));
  return Math.min(delay, SQS_LIMITS.maxVisibilityTimeoutSeconds);
}
