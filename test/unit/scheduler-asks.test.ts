import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelWorld, type ModelWorldSpec } from "../helpers/model-world.js";

/**
 * What a poller asks SQS for, and when it holds its receive back, driven through the real supervisor over the
 * model SQS (test/helpers/model-world.ts). Each case failed before the change it names (issue #19).
 */
const oneQueue: ModelWorldSpec = {
  queues: [{ fifo: false, weight: 1, concurrency: undefined }],
  maxInFlight: 1,
  prefetch: 20,
  maxBuffered: 100,
  visibilityTimeoutSeconds: 30,
  waitTimeSeconds: 20,
  idleBackoff: false,
  drainTimeoutMs: 1,
  restartLaterSeconds: 0,
  latencyMs: 0,
};

/** Runs `body` in a fresh world of `spec`, started, and always disposes of it. */
async function inWorld(spec: ModelWorldSpec, body: (world: ModelWorld) => Promise<void>): Promise<void> {
  const world = new ModelWorld(spec);
  try {
    await world.start();
    await body(world);
  } finally {
    world.dispose();
  }
}

describe("a poller's ask", () => {
  it("takes a burst of 10 to an idle queue in one receive, where the buffer ceiling's share allows", async () => {
    await inWorld(oneQueue, async (world) => {
      const url = world.targets[0]!.url;
      const before = world.sqs.receiveCalls(url);
      await world.apply({ kind: "send", queue: 0, groups: Array(10).fill(0) });
      const health = world.supervisor.health();
      assert.equal(health.buffered + health.inFlight, 10, "the whole burst is in hand");
      // The waiting receive brought all 10, and the next one waits: before, asks of 1, 2, 4 and 3 took four.
      assert.equal(world.sqs.receiveCalls(url) - before, 1, "one more receive after the one that was waiting");
    });
  });

  it("asks an idle queue for 1 when its share of the ceiling is less than a message beyond the first", async () => {
    // 100 queues share half of maxBuffered 100: no idle queue may reserve beyond its first message.
    const spec = { ...oneQueue, queues: Array(100).fill(oneQueue.queues[0]!) };
    await inWorld(spec, async (world) => {
      const url = world.targets[0]!.url;
      await world.apply({ kind: "send", queue: 0, groups: Array(10).fill(0) });
      const health = world.supervisor.health();
      assert.equal(health.buffered + health.inFlight, 10, "the whole burst is in hand");
      // A receive of 1 comes back full, so the next asks for 10 and brings the other 9 in one (an extra lane's);
      // then both lanes wait on SQS again. Before, asks of 1, 2, 4 and 2 took four round trips.
      assert.ok(world.sqs.receiveCalls(url) <= 4, `${world.sqs.receiveCalls(url)} receives`);
    });
  });
});

describe("a poller's hold on a busy queue", () => {
  it("keeps listening while buffered messages wait for a slot, when SQS had no backlog for it", async () => {
    await inWorld({ ...oneQueue, prefetch: 4 }, async (world) => {
      const url = world.targets[0]!.url;
      // m1 runs, m2 and m3 wait for the one slot; SQS holds nothing more.
      await world.apply({ kind: "send", queue: 0, groups: [0, 0, 0] });
      assert.equal(world.supervisor.health().buffered, 2);
      // Before, the receives of 1 and 2 came back full, and the poller held back for room for 4: no receive in
      // flight, and m4 waited at SQS until the buffer had drained.
      assert.equal(world.sqs.waitingOn(url), 1, "a receive is in flight");
      await world.apply({ kind: "send", queue: 0, groups: [0] });
      assert.equal(world.supervisor.health().buffered, 3, "m4 was received at once");
    });
  });
});
