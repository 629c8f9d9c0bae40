import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import type { IdempotencyStore } from "../../src/idempotency/types.js";

/**
 * What every idempotency store must do, as test cases: the same cases run against the memory store, a real
 * redis-server and dynalite. `store` is called inside each case, once its server is up.
 */
export function storeContract(store: () => IdempotencyStore, skip?: string): void {
  const options = skip === undefined ? {} : { skip };
  const hour = (): number => Math.round(Date.now() / 1000) + 3600;
  const key = (): string => `contract#${randomUUID()}`;

  it("takes a free key, and refuses it while its lock holds, saying until when", options, async () => {
    const k = key();
    const until = Date.now() + 30_000;
    assert.deepEqual(await store().begin(k, until, hour()), { kind: "acquired" });
    assert.deepEqual(await store().begin(k, Date.now() + 30_000, hour()), { kind: "inProgress", untilMs: until });
  });

  it("settles a completed key as completed until the record expires", options, async () => {
    const k = key();
    const until = Date.now() + 30_000;
    await store().begin(k, until, hour());
    await store().complete(k, undefined, hour(), until);
    const found = await store().begin(k, Date.now() + 30_000, hour());
    assert.equal(found.kind, "completed");
  });

  it("frees a released key for the next delivery", options, async () => {
    const k = key();
    const until = Date.now() + 30_000;
    await store().begin(k, until, hour());
    await store().release(k, until);
    assert.deepEqual(await store().begin(k, Date.now() + 30_000, hour()), { kind: "acquired" });
  });

  it("lets a delivery take a key whose holder's lock has run out (a crashed replica)", options, async () => {
    const k = key();
    assert.deepEqual(await store().begin(k, Date.now() - 1, hour()), { kind: "acquired" });
    assert.deepEqual(await store().begin(k, Date.now() + 30_000, hour()), { kind: "acquired" });
    assert.equal((await store().begin(k, Date.now() + 30_000, hour())).kind, "inProgress");
  });

  it(
    "acts on its own lock only: an expired holder's release and complete leave the next holder's record",
    options,
    async () => {
      const k = key();
      const lockA = Date.now() - 1;
      assert.deepEqual(await store().begin(k, lockA, hour()), { kind: "acquired" });
      const lockB = Date.now() + 30_000;
      assert.deepEqual(await store().begin(k, lockB, hour()), { kind: "acquired" });
      await store().release(k, lockA);
      assert.deepEqual(await store().begin(k, Date.now() + 30_000, hour()), { kind: "inProgress", untilMs: lockB });
      await assert.rejects(store().complete(k, undefined, hour(), lockA), /lock/);
      assert.deepEqual(await store().begin(k, Date.now() + 30_000, hour()), { kind: "inProgress", untilMs: lockB });
      await store().complete(k, undefined, hour(), lockB);
      assert.equal((await store().begin(k, Date.now() + 30_000, hour())).kind, "completed");
    },
  );
}
