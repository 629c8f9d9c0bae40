import type { RateLimitStoreOptions } from "../config/types.js";
import { errorSummary } from "../errors.js";
import type { Logger } from "../logging.js";
import type { SharedLimiterFactory } from "./queue-gates.js";
import { SharedLimiter, sharedWindow, type WindowCounter } from "./shared-limiter.js";

/** The parts of node-redis's client this uses. */
interface RedisClient {
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  on(event: "error", listener: (error: unknown) => void): unknown;
}

/** A window closer to its end than this gives nothing back: the give-back could land in the next window. */
const GIVE_BACK_MARGIN_MS = 100;

/**
 * Shared rate limits in Redis (or Valkey): one connection per daemon, made on the first receive that needs it,
 * and one rate-limiter-flexible `RateLimiterRedis` (an atomic script per take) per limited queue, keyed by the
 * queue's registered name. The `redis` package (node-redis) is an optional dependency, loaded only here.
 */
export function redisLimiters(store: RateLimitStoreOptions, logger: Logger): SharedLimiterFactory {
  let client: Promise<RedisClient> | undefined;
  let users = 0;
  const connect = (): Promise<RedisClient> =>
    (client ??= (async () => {
      let redis: { createClient(options: { url: string }): RedisClient };
      try {
        redis = await import("redis");
      } catch (error) {
        throw new Error('rateLimit.shared needs the "redis" package: npm install redis', { cause: error });
      }
      const connection = redis.createClient({ url: store.url });
      // node-redis reconnects by itself; an unhandled 'error' event would end the process.
      connection.on("error", (error) =>
        logger.debug("rate limit store connection error", { error: errorSummary(error) }),
      );
      await connection.connect();
      return connection;
    })());
  return (queueName, perSecond, burst) => {
    const { seconds, points } = sharedWindow(perSecond, burst);
    let limiter: Promise<import("rate-limiter-flexible").RateLimiterRedis> | undefined;
    const limiterOf = () =>
      (limiter ??= (async () => {
        const { RateLimiterRedis } = await import("rate-limiter-flexible");
        return new RateLimiterRedis({
          storeClient: await connect(),
          useRedisPackage: true,
          keyPrefix: store.keyPrefix ?? "sqsd:rate",
          points,
          duration: seconds,
        });
      })());
    users += 1;
    const counter: WindowCounter = {
      points,
      async take(wanted) {
        const rl = await limiterOf();
        try {
          const res = await rl.consume(queueName, wanted);
          return { got: wanted, msLeft: res.msBeforeNext };
        } catch (rejected) {
          if (rejected instanceof Error) throw rejected;
          // Past the window's points: the counter took them all, so what was over goes back (while the window lasts).
          const res = rejected as import("rate-limiter-flexible").RateLimiterRes;
          const over = Math.min(wanted, res.consumedPoints - points);
          if (over > 0 && res.msBeforeNext > GIVE_BACK_MARGIN_MS) await rl.reward(queueName, over);
          return { got: wanted - Math.max(0, over), msLeft: res.msBeforeNext };
        }
      },
      async close() {
        users -= 1;
        if (users === 0 && client) await (await client.catch(() => undefined))?.quit();
      },
    };
    return new SharedLimiter(counter, perSecond, burst, (error) =>
      logger.warn("rate limit store unreachable: the queue receives nothing until it answers", {
        queue: queueName,
        error: errorSummary(error),
      }),
    );
  };
}
