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
});
