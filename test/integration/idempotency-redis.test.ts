import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { runOnce } from "../../src/idempotency/guard.js";
import { redisStore } from "../../src/idempotency/redis-store.js";
import type { IdempotencyStore } from "../../src/idempotency/types.js";
import { storeContract } from "../helpers/idempotency-contract.js";
import { RedisServer } from "../helpers/store-servers.js";

const skip = RedisServer.unavailable();

describe("redisStore against redis-server", { skip }, () => {
  let server: RedisServer | undefined;
  let store: IdempotencyStore;
  before(async () => {
    server = await RedisServer.start();
    store = redisStore({ url: server.url });
  });
  after(async () => {
    await store?.close?.();
    await server?.stop();
  });

  storeContract(() => store);

  it("keeps Powertools' CachePersistenceLayer record: JSON with status and expiries, expiring with the record", async () => {
    const { createClient } = await import("redis");
    const client = createClient({ url: server!.url });
    await client.connect();
    try {
      const id = randomUUID();
      const run = await runOnce({ store, keyPrefix: "orders" }, "q", { id, body: {} }, 30_000, async () => "r");
      assert.equal(run.kind, "ran");
      const keys = await client.keys("orders#*");
      const values = await Promise.all(keys.map(async (key) => JSON.parse((await client.get(key))!) as unknown));
      assert.ok(values.some((value) => (value as { status?: string }).status === "COMPLETED"));
      const ttls = await Promise.all(keys.map((key) => client.ttl(key)));
      assert.ok(
        ttls.every((ttl) => ttl > 3500 && ttl <= 3600),
        `TTLs ${ttls.join(", ")}`,
      );
    } finally {
      client.destroy();
    }
  });
});
