import type { RateLimitOptions, RegisteredQueue } from "../registry/types.js";
import { LocalLimiter } from "./local-limiter.js";
import { QueueGate } from "./queue-gate.js";
import type { ReceiveLimiter } from "./receive-limiter.js";

/** Makes the limiter of a queue whose limit is `shared` (a store every replica reaches). */
export type SharedLimiterFactory = (queueName: string, perSecond: number, burst: number) => ReceiveLimiter;

/** A limit's rate in tokens per second, and its burst (by default the rate per second rounded up, at least 1). */
export function resolveRateLimit(limit: RateLimitOptions): { perSecond: number; burst: number } {
  const perSecond = limit.perSecond ?? (limit.perMinute ?? 0) / 60;
  return { perSecond, burst: limit.burst ?? Math.max(1, Math.ceil(perSecond)) };
}

/**
 * One {@link QueueGate} per registered queue, made when its first poller asks, so the pollers of all its
 * suffixes share its tokens and its pauses.
 */
export class QueueGates {
  readonly #gates = new Map<string, QueueGate>();
  readonly #shared: SharedLimiterFactory | undefined;

  /** `shared` makes the limiters of queues whose `rateLimit.shared` is set; without it such a queue fails. */
  constructor(shared?: SharedLimiterFactory) {
    this.#shared = shared;
  }

  /** The gate of `queue`, made on first use. */
  gateFor(queue: RegisteredQueue): QueueGate {
    let gate = this.#gates.get(queue.name);
    if (gate === undefined) {
      gate = new QueueGate(this.#limiterOf(queue));
      this.#gates.set(queue.name, gate);
    }
    return gate;
  }

  /** Releases the shared stores' connections. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#gates.values()].map((gate) => gate.close()));
  }

  #limiterOf(queue: RegisteredQueue): ReceiveLimiter | undefined {
    const limit = queue.options.rateLimit;
    if (limit === undefined) return undefined;
    const { perSecond, burst } = resolveRateLimit(limit);
    if (limit.shared === undefined || limit.shared === false) return new LocalLimiter(perSecond, burst);
    if (this.#shared === undefined) {
      throw new Error(`queue ${queue.name}: rateLimit.shared needs the config's rateLimitStore (a Redis URL)`);
    }
    return this.#shared(queue.name, perSecond, burst);
  }
}
