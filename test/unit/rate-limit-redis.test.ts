import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { redisLimiters } from "../../src/rate-limit/redis-store.js";
import { eventually } from "../helpers/eventually.js";
import { freePort } from "../helpers/free-port.js";
import { memoryLogger } from "../helpers/memory-logger.js";
import { RedisServer } from "../helpers/store-servers.js";

const redisMissing = RedisServer.unavailable();
/** Far beyond any bound the store's client keeps (2 s a take, 1 s a close): past it, the call hangs. */
const HANG_MS = 20_000;

/** `work`'s result, or a failure naming `what` when it has not settled within {@link HANG_MS}. */
async function settles<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung`)), HANG_MS);
  });
  try {
    return await Promise.race([work, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const warned = (records: readonly { level: string; message: string }[]): boolean =>
  records.some((r) => r.level === "warn" && r.message.startsWith("rate limit store unreachable"));

describe("a shared rate limit with Redis down", { skip: redisMissing }, () => {
  let redis: RedisServer | undefined;
  after(async () => {
    await redis?.stop();
  });

  it("fails fast, warns, and closes promptly when no Redis answers from the start", async () => {
    const { logger, records } = memoryLogger();
    const limiter = redisLimiters({ url: `redis://127.0.0.1:${await freePort()}` }, logger)("q", 5, 5);
    assert.equal(await settles(Promise.resolve(limiter.reserve(5)), "a take while Redis is down"), 0);
    assert.ok(warned(records), "the unreachable warning fires");
    const drain = new AbortController();
    drain.abort();
    assert.equal(await settles(Promise.resolve(limiter.reserve(5, drain.signal)), "an aborted take"), 0);
    await settles(limiter.close(), "close()");
  });

  it("fails fast and warns once when Redis stops mid-run, and closes promptly", async () => {
    redis = await RedisServer.start();
    const { logger, records } = memoryLogger();
    const limiter = redisLimiters({ url: redis.url }, logger)("q", 5, 5);
    assert.equal(await settles(Promise.resolve(limiter.reserve(5)), "a take"), 1, "idle: one token");
    limiter.settle(1, 1);
    await redis.stop();
    // Tokens already taken from the window may still be handed out; once they lapse, the store is asked.
    await eventually(async () => {
      assert.equal(await settles(Promise.resolve(limiter.reserve(5)), "a take while Redis is down"), 0);
      assert.ok(warned(records), "the unreachable warning fires");
      return true;
    });
    // A receive waiting on a take ends when its drain begins.
    const drain = new AbortController();
    const waiting = Promise.resolve(limiter.reserve(5, drain.signal));
    drain.abort();
    assert.equal(await settles(waiting, "a take on drain"), 0);
    await settles(limiter.close(), "close()");
    assert.equal(records.filter((r) => r.level === "warn").length, 1, "one warning per outage");
  });
});
