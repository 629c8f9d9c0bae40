import type { RateLimitStoreOptions } from "../config/types.js";
import { errorSummary } from "../errors.js";
import { optionalPackage } from "../optional-package.js";
import type { Logger } from "../logging.js";
import type { SharedLimiterFactory } from "./queue-gates.js";
import { SharedLimiter, sharedWindow, type WindowCounter } from "./shared-limiter.js";

/** The parts of node-redis's client this uses. */
interface RedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: "error", listener: (error: unknown) => void): unknown;
}

/** The options of node-redis's `createClient` this sets. */
interface RedisClientOptions {
  readonly url: string;
  readonly disableOfflineQueue: boolean;
  readonly socket: { readonly connectTimeout: number; readonly reconnectStrategy: (retries: number) => number };
}

/** A window closer to its end than this gives nothing back: the give-back could land in the next window. */
const GIVE_BACK_MARGIN_MS = 100;
/** A take (connecting included) that has not answered by then failed: the limit closes and the warning fires. */
const TAKE_TIMEOUT_MS = 2_000;
/** How long close() lets a connected client say goodbye before it drops the socket. */
const CLOSE_TIMEOUT_MS = 1_000;

/** One client and whether it may still answer (node-redis sets isOpen false when it gives up reconnecting). */
interface Connection {
  readonly client: RedisClient;
  readonly connected: Promise<unknown>;
  settled: boolean;
}

/**
 * Shared rate limits in Redis (or Valkey): one connection per daemon, made on the first receive that needs it,
 * and one rate-limiter-flexible `RateLimiterRedis` (an atomic script per take) per limited queue, keyed by the
 * queue's registered name. The `redis` package (node-redis) is an optional dependency, loaded only here.
 *
 * A store that is down must not hang a receive: the client's offline queue is off (a command while
 * disconnected fails at once instead of waiting for the reconnect), every take is bounded by
 * {@link TAKE_TIMEOUT_MS}, a client that gave up is replaced on the next take, and close() is bounded.
 */
export function redisLimiters(store: RateLimitStoreOptions, logger: Logger): SharedLimiterFactory {
  let current: Connection | undefined;
  let users = 0;
  const open = async (): Promise<RedisClient> => {
    const module: { createClient(options: RedisClientOptions): RedisClient } = await importRedis();
    if (current === undefined || (current.settled && !current.client.isOpen)) {
      if (current?.client.isOpen === true) current.client.destroy();
      const client = module.createClient({
        url: store.url,
        disableOfflineQueue: true,
        // Retry for as long as the daemon runs (the default gives up on a connect timeout), at most every 2 s.
        socket: {
          connectTimeout: TAKE_TIMEOUT_MS,
          reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000),
        },
      });
      // node-redis reconnects by itself; an unhandled 'error' event would end the process.
      client.on("error", (error) => logger.debug("rate limit store connection error", { error: errorSummary(error) }));
      const connection: Connection = { client, connected: client.connect(), settled: false };
      // A refused server keeps connect() pending while node-redis retries; a rejection means it gave up.
      connection.connected.then(
        () => (connection.settled = true),
        () => (connection.settled = true),
      );
      current = connection;
    }
    await current.connected;
    return current.client;
  };
  return (queueName, perSecond, burst) => {
    const { seconds, points } = sharedWindow(perSecond, burst);
    let limiter: { client: RedisClient; rl: import("rate-limiter-flexible").RateLimiterRedis } | undefined;
    const limiterOf = async () => {
      const client = await open();
      if (limiter?.client !== client) {
        const { RateLimiterRedis } = await import("rate-limiter-flexible");
        const rl = new RateLimiterRedis({
          storeClient: client,
          useRedisPackage: true,
          keyPrefix: store.keyPrefix ?? "sqsd:rate",
          points,
          duration: seconds,
        });
        limiter = { client, rl };
      }
      return limiter.rl;
    };
    const take = async (wanted: number): Promise<{ got: number; msLeft: number }> => {
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
    };
    users += 1;
    const counter: WindowCounter = {
      points,
      take: (wanted) => within(take(wanted), TAKE_TIMEOUT_MS, "rate limit store did not answer in time"),
      async close() {
        users -= 1;
        if (users > 0 || current === undefined) return;
        const { client } = current;
        current = undefined;
        if (client.isReady) await within(client.close(), CLOSE_TIMEOUT_MS, "").catch(() => undefined);
        if (client.isOpen) client.destroy();
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

/** `work`, or a rejection with `message` when it has not settled within `ms`. */
function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

const importRedis = optionalPackage(
  () => import("redis"),
  "redis",
  "rateLimit.shared",
  "remove shared from the receivers' rateLimit",
);
