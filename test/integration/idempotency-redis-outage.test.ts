import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { redisStore } from "../../src/idempotency/redis-store.js";
import { RedisServer } from "../helpers/store-servers.js";

const skip = RedisServer.unavailable();

/** What `request` came to within `ms`: its rejection, its value, or `"hung"`. */
async function settleWithin(request: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise((resolve) => (timer = setTimeout(() => resolve("hung"), ms)));
  try {
    return await Promise.race([
      request.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe("redisStore while redis-server is down", { skip }, () => {
  // Far above the store's own 5 s bound, so that a loaded machine does not fail it; a hang never settles.
  const bound = 30_000;

  it("fails each request instead of waiting for a server that was stopped mid-test", async () => {
    const server = await RedisServer.start();
    const store = redisStore({ url: server.url });
    try {
      const key = `outage#${randomUUID()}`;
      const lock = Date.now() + 60_000;
      const hour = Math.round(Date.now() / 1000) + 3600;
      assert.deepEqual(await store.begin(key, lock, hour), { kind: "acquired" });
      await server.stop();
      for (const request of [
        () => store.begin(`outage#${randomUUID()}`, Date.now() + 60_000, hour),
        () => store.complete(key, undefined, hour, lock),
        () => store.release(key, lock),
      ]) {
        const settled = await settleWithin(request(), bound);
        assert.ok(typeof settled === "object" && settled !== null && "error" in settled, `settled: ${String(settled)}`);
      }
    } finally {
      await store.close?.();
      await server.stop();
    }
  });

  it("fails a first request to a server that does not listen (node-redis would retry the connection for ever)", async () => {
    const server = await RedisServer.start();
    const url = server.url;
    await server.stop();
    const store = redisStore({ url });
    try {
      const hour = Math.round(Date.now() / 1000) + 3600;
      const settled = await settleWithin(store.begin(`outage#${randomUUID()}`, Date.now() + 60_000, hour), bound);
      assert.ok(typeof settled === "object" && settled !== null && "error" in settled, `settled: ${String(settled)}`);
    } finally {
      await store.close?.();
    }
  });
});
