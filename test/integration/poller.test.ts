import assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { Capacity } from "../../src/supervisor/capacity.js";
import { Poller, type PollerOptions } from "../../src/supervisor/poller.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqs } from "../helpers/local-sqs.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/** One poller against a real SQS server: what it asks for, and how it stops. */
describe("Poller", () => {
  let sqs: TestSqs;
  let poller: Poller | undefined;
  before(async () => {
    sqs = await TestSqs.start();
  });
  after(async () => {
    await sqs.stop();
  });
  beforeEach(() => getRegistry().clear());
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
  });

  async function startPoller(name: string, overrides: Partial<PollerOptions> & { capacity: Capacity }) {
    const url = await sqs.createQueue(name);
    const received: Message[] = [];
    const strays: Message[] = [];
    const client = createSqsClient(sqs.settings);
    poller = new Poller({
      target: {
        queue: receiver(name, async () => {}).queue,
        suffix: undefined,
        fullName: name,
        url,
        visibilityTimeoutSeconds: 30,
      },
      client,
      logger: memoryLogger().logger,
      waitTimeSeconds: 1,
      errorBackoff: { initialMs: 100, maxMs: 1_000 },
      idleBackoff: false,
      maxLanes: 4,
      onMessages: (_, messages) => received.push(...messages),
      onStrayMessages: (_, messages) => strays.push(...messages),
      ...overrides,
    });
    return { url, received, strays, poller };
  }

  it("asks SQS for no more messages than it holds slots for", async () => {
    const capacity = new Capacity(3);
    const { url, received, poller } = await startPoller("limited", { capacity });
    await sqs.sendMany(
      url,
      Array.from({ length: 10 }, (_, index) => String(index)),
    );
    poller.start();
    await eventually(() => received.length === 3);
    assert.deepEqual(await sqs.counts(url), { visible: 7, inFlight: 3, delayed: 0 });
    assert.equal(capacity.inUse, 3);
    // One message finishes: exactly one more is received, the rest stay in the queue.
    capacity.release("limited", 1);
    await eventually(() => received.length === 4);
    assert.deepEqual(await sqs.counts(url), { visible: 6, inFlight: 4, delayed: 0 });
  });

  it("stops without aborting a long poll under way, and hands back what it brings", async () => {
    const capacity = new Capacity(10);
    const { url, received, strays, poller } = await startPoller("stray", { capacity, waitTimeSeconds: 10 });
    const receivesBefore = sqs.requests("ReceiveMessage");
    poller.start();
    // A long poll is now waiting on the empty queue; stop while it is under way.
    await eventually(() => sqs.requests("ReceiveMessage") > receivesBefore);
    const stopped = poller.stop();
    await sqs.send(url, "late");
    await stopped;
    assert.deepEqual(
      strays.map((message) => message.Body),
      ["late"],
    );
    assert.equal(received.length, 0);
    assert.equal(capacity.inUse, 0);
    assert.equal(sqs.requests("ReceiveMessage"), receivesBefore + 1, "no receive after stop()");
  });

  it("wake() ends an idle backoff pause at once", async () => {
    const capacity = new Capacity(10);
    const { url, received, poller } = await startPoller("sleepy", {
      capacity,
      idleBackoff: { initialMs: 3_600_000, maxMs: 3_600_000 },
    });
    poller.start();
    // After one empty receive the poller pauses for an hour.
    await eventually(() => poller.lastPollAt !== undefined);
    await sqs.send(url, "urgent");
    poller.wake();
    await eventually(() => received.length === 1, { timeoutMs: 10_000 });
    assert.equal(received[0]?.Body, "urgent");
  });
});
