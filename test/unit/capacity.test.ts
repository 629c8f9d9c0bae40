import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Capacity } from "../../src/supervisor/capacity.js";

const never = new AbortController().signal;

/** Resolves with the grant if `promise` settles within the current turn of microtasks, else "pending". */
async function settledNow<T>(promise: Promise<T>): Promise<T | "pending"> {
  return Promise.race([promise, new Promise<"pending">((resolve) => setImmediate(() => resolve("pending")))]);
}

describe("Capacity", () => {
  it("grants up to what is free and no more", async () => {
    const capacity = new Capacity(8);
    assert.equal(await capacity.acquire("a", 10, never), 8);
    assert.equal(capacity.inUse, 8);
    const waiting = capacity.acquire("a", 10, never);
    assert.equal(await settledNow(waiting), "pending");
    capacity.release("a", 3);
    assert.equal(await waiting, 3);
  });

  it("takes unused reservations back with refund", async () => {
    const capacity = new Capacity(10);
    const granted = await capacity.acquire("a", 10, never);
    capacity.refund("a", granted - 4);
    assert.equal(capacity.inUse, 4);
  });

  it("caps a queue at its own limit while others still get slots", async () => {
    const capacity = new Capacity(10);
    capacity.limitQueue("slow", 2);
    assert.equal(await capacity.acquire("slow", 10, never), 2);
    const blocked = capacity.acquire("slow", 10, never);
    assert.equal(await capacity.acquire("fast", 10, never), 8);
    assert.equal(await settledNow(blocked), "pending");
    capacity.release("slow", 1);
    assert.equal(await blocked, 1);
  });

  it("splits freed slots fairly between waiting queues", async () => {
    const capacity = new Capacity(9);
    assert.equal(await capacity.acquire("busy", 10, never), 9);
    const a = capacity.acquire("a", 10, never);
    const b = capacity.acquire("b", 10, never);
    const c = capacity.acquire("c", 10, never);
    capacity.release("busy", 9);
    assert.deepEqual(await Promise.all([a, b, c]), [3, 3, 3]);
  });

  it("never grants more than the budget, and refunds restore it", async () => {
    const capacity = new Capacity(10, { budget: 3 });
    assert.equal(await capacity.acquire("a", 10, never), 3);
    capacity.refund("a", 1);
    assert.equal(capacity.budgetLeft, 1);
    capacity.release("a", 2);
    assert.equal(await capacity.acquire("a", 10, never), 1);
    capacity.release("a", 1);
    assert.equal(capacity.inUse, 0);
    const stop = new AbortController();
    const overBudget = capacity.acquire("a", 10, stop.signal);
    assert.equal(await settledNow(overBudget), "pending");
    stop.abort(new Error("no budget"));
    await assert.rejects(overBudget, /no budget/);
  });

  it("holds a partial grant back briefly so that receives are not split into tiny batches", async () => {
    const capacity = new Capacity(20, { gatherMs: 3_600_000 });
    assert.equal(await capacity.acquire("a", 20, never), 20);
    const waiting = capacity.acquire("a", 10, never);
    capacity.release("a", 4);
    assert.equal(await settledNow(waiting), "pending");
    capacity.release("a", 6);
    assert.equal(await waiting, 10);
  });

  it("takes what is free once the gather time is up", async () => {
    const capacity = new Capacity(20, { gatherMs: 1 });
    assert.equal(await capacity.acquire("a", 20, never), 20);
    const waiting = capacity.acquire("a", 10, never);
    capacity.release("a", 4);
    assert.equal(await waiting, 4);
  });

  it("rejects a wait when its signal aborts, and serves the others", async () => {
    const capacity = new Capacity(1);
    await capacity.acquire("a", 1, never);
    const controller = new AbortController();
    const abandoned = capacity.acquire("b", 1, controller.signal);
    const next = capacity.acquire("c", 1, never);
    controller.abort(new Error("stopping"));
    await assert.rejects(abandoned, /stopping/);
    capacity.release("a", 1);
    assert.equal(await next, 1);
    assert.equal(capacity.inUseBy("b"), 0);
  });
});
