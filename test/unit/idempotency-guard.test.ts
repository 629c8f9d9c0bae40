import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { runOnce } from "../../src/idempotency/guard.js";
import { recordKey } from "../../src/idempotency/key.js";
import { memoryStore } from "../../src/idempotency/memory-store.js";
import type { IdempotencyStore } from "../../src/idempotency/types.js";

const message = (body: unknown = {}): { id: string; body: unknown } => ({ id: randomUUID(), body });

describe("runOnce", () => {
  const store = memoryStore("guard-test");

  it("runs the handler for a new key, and settles the next delivery of that key as a duplicate", async () => {
    const delivery = message();
    let runs = 0;
    const first = await runOnce({ store }, "q", delivery, 30_000, async () => ++runs);
    const second = await runOnce({ store }, "q", delivery, 30_000, async () => ++runs);
    assert.deepEqual([first, second, runs], [{ kind: "ran", returned: 1 }, { kind: "duplicate" }, 1]);
  });

  it("keys by the key function: two messages with one business key run once", async () => {
    const key = (m: { body: unknown }): unknown => (m.body as { orderId: string }).orderId;
    const orderId = randomUUID();
    let runs = 0;
    await runOnce({ store, key }, "q", message({ orderId }), 30_000, async () => ++runs);
    const again = await runOnce({ store, key }, "q", message({ orderId }), 30_000, async () => ++runs);
    assert.deepEqual([again.kind, runs], ["duplicate", 1]);
  });

  it("deletes the record of a handler that threw, so that the retry runs", async () => {
    const delivery = message();
    await assert.rejects(
      runOnce({ store }, "q", delivery, 30_000, async () => {
        throw new Error("boom");
      }),
      /boom/,
    );
    const retry = await runOnce({ store }, "q", delivery, 30_000, async () => "done");
    assert.deepEqual(retry, { kind: "ran", returned: "done" });
  });

  it("leaves a delivery whose key another holds for when that lock expires, without running it", async () => {
    const delivery = message();
    let release!: () => void;
    const holding = runOnce({ store }, "q", delivery, 90_000, () => new Promise<void>((done) => (release = done)));
    const other = await runOnce({ store }, "q", delivery, 90_000, async () => assert.fail("must not run"));
    assert.equal(other.kind, "inProgress");
    assert.ok(other.kind === "inProgress" && other.retryAfterSeconds > 80 && other.retryAfterSeconds <= 90);
    release();
    assert.equal((await holding).kind, "ran");
  });

  it("does not run the handler when the store fails, and says so", async () => {
    const broken: IdempotencyStore = {
      kind: "broken",
      begin: async () => {
        throw new Error("store down");
      },
      complete: async () => undefined,
      release: async () => undefined,
    };
    await assert.rejects(
      runOnce({ store: broken }, "q", message(), 30_000, async () => assert.fail("must not run")),
      /store down/,
    );
  });

  it("settles a handler that ran as done when its record could not be completed, with the error", async () => {
    const failing: IdempotencyStore = {
      kind: "failing",
      begin: async () => ({ kind: "acquired" }),
      complete: async () => {
        throw new Error("write failed");
      },
      release: async () => undefined,
    };
    const run = await runOnce({ store: failing }, "q", message(), 30_000, async () => 7);
    assert.equal(run.kind, "ran");
    assert.match(String(run.kind === "ran" ? run.recordError : ""), /write failed/);
  });

  it("stores a result within maxStoredResultBytes, and none past it", async () => {
    const stored: unknown[] = [];
    const recording: IdempotencyStore = {
      kind: "recording",
      begin: async () => ({ kind: "acquired" }),
      complete: async (_key, data) => void stored.push(data),
      release: async () => undefined,
    };
    await runOnce({ store: recording, maxStoredResultBytes: 20 }, "q", message(), 1000, async () => ({ ok: 1 }));
    await runOnce({ store: recording, maxStoredResultBytes: 20 }, "q", message(), 1000, async () => "x".repeat(30));
    await runOnce({ store: recording }, "q", message(), 1000, async () => ({ ok: 1 }));
    assert.deepEqual(stored, [{ ok: 1 }, undefined, undefined]);
  });
});

describe("recordKey", () => {
  it("hashes the key value's JSON with object keys sorted, under its prefix, as Powertools does", () => {
    assert.equal(
      recordKey("orders", { b: 1, A: [{ d: 2, c: 3 }] }),
      recordKey("orders", { A: [{ c: 3, d: 2 }], b: 1 }),
    );
    assert.match(recordKey("orders", "o-1"), /^orders#[A-Za-z0-9+/]{22}==$/);
    assert.notEqual(recordKey("orders", "o-1"), recordKey("orders", "o-2"));
  });
});
