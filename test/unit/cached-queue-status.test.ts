import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CachedQueueStatus, type QueueStatus } from "../../src/admin/queue-status.js";

/** The status cache that keeps scrapes and status pages from running up the SQS bill. */
describe("CachedQueueStatus", () => {
  const status: QueueStatus[] = [
    {
      name: "q",
      exists: true,
      visible: 1,
      inFlight: 0,
      delayed: 0,
      deadLetter: undefined,
      visibilityTimeoutSeconds: 30,
    },
  ];

  it("reads SQS at most once per TTL, however often it is asked", async () => {
    let reads = 0;
    const cache = new CachedQueueStatus(async () => ((reads += 1), status), 30_000);
    const now = Date.now();
    for (let request = 0; request < 50; request += 1) await cache.get(now + request * 100);
    assert.equal(reads, 1);
    await cache.get(now + 30_000);
    assert.equal(reads, 2, "a fresh read once the TTL has passed");
  });

  it("answers a queue's visible count from the last good read without reading SQS", async () => {
    let reads = 0;
    const cache = new CachedQueueStatus(async () => ((reads += 1), status), 30_000);
    assert.equal(cache.visible("q"), undefined, "nothing read yet, and asking does not read");
    assert.equal(reads, 0);
    const { asOf } = await cache.get();
    assert.deepEqual(cache.visible("q"), { count: 1, asOf: asOf.getTime() });
    assert.equal(cache.visible("other"), undefined);
    assert.equal(reads, 1);
  });

  it("does not cache a failed read", async () => {
    let reads = 0;
    const cache = new CachedQueueStatus(async () => {
      reads += 1;
      if (reads === 1) throw new Error("SQS unreachable");
      return status;
    }, 30_000);
    await assert.rejects(cache.get(), /SQS unreachable/);
    assert.deepEqual((await cache.get()).queues, status);
    assert.equal(reads, 2);
  });

  it("gives scrapes the last good read when SQS fails or does not answer in time, and never throws", async () => {
    let next: "ok" | "fail" | "hang" = "fail";
    const cache = new CachedQueueStatus(async () => {
      if (next === "fail") throw new Error("SQS unreachable");
      if (next === "hang") return new Promise<QueueStatus[]>(() => {});
      return status;
    }, 1_000);
    const start = Date.now();
    assert.equal(await cache.latest(50, start), undefined, "nothing read yet, and the read failed");
    next = "ok";
    const good = await cache.latest(50, start);
    assert.deepEqual(good?.queues, status);
    assert.equal(good?.stale, false, "a fresh read");
    next = "fail";
    const stale = { ...good, stale: true };
    assert.deepEqual(await cache.latest(50, start + 2_000), stale, "a failed refresh serves the last good read");
    next = "hang";
    assert.deepEqual(await cache.latest(50, start + 4_000), stale, "so does a refresh that does not answer in time");
    assert.equal(good?.asOf.getTime(), start, "its asOf says how old it is");
  });

  it("starts no second read while one is still under way, even past the TTL", async () => {
    let reads = 0;
    let answer: ((queues: QueueStatus[]) => void) | undefined;
    const cache = new CachedQueueStatus(() => {
      reads += 1;
      return new Promise<QueueStatus[]>((resolve) => (answer = resolve));
    }, 1_000);
    const start = Date.now();
    assert.equal(await cache.latest(10, start), undefined);
    for (let request = 1; request <= 10; request += 1)
      assert.equal(await cache.latest(10, start + request * 5_000), undefined);
    assert.equal(reads, 1, "the hanging read is shared, not joined by more");
    answer?.(status);
    assert.deepEqual((await cache.latest(10, start + 60_000))?.queues, status);
    assert.equal(reads, 1, "that read answered the request that found it settled");
    await cache.latest(10, start + 120_000);
    assert.equal(reads, 2, "once it has settled, an expired read is replaced");
  });

  it("tells its owner about each failed read, so a lasting failure is not silent, and serves the last good one", async () => {
    const failures: unknown[] = [];
    let fail = false;
    const cache = new CachedQueueStatus(
      async () => {
        if (fail) throw new Error("AccessDenied");
        return status;
      },
      1_000,
      (error) => failures.push(error),
    );
    const now = Date.now();
    await cache.get(now);
    fail = true;
    const latest = await cache.latest(1_000, now + 2_000);
    assert.equal(latest?.stale, true, "the last good read, marked stale");
    assert.equal(failures.length, 1);
    assert.match(String((failures[0] as Error).message), /AccessDenied/);
  });
});
