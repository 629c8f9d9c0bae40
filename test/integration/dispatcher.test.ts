import assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { describe, it } from "node:test";
import type { Outcome } from "../../src/pool/protocol.js";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import type { Acker, AckTarget } from "../../src/supervisor/acker.js";
import { Capacity } from "../../src/supervisor/capacity.js";
import { Dispatcher } from "../../src/supervisor/dispatcher.js";
import { SupervisorEmitter } from "../../src/supervisor/events.js";
import type { HandlerPool } from "../../src/pool/pool.js";
import { eventually } from "../helpers/eventually.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/**
 * A dispatcher for `orders.fifo` over a stand-in pool and acker, recording everything in one ordered log
 * (`start A1`, `end A1`, `delete A1`, `extend A2`, `release A3`). A real SQS server (fauxqs) hands out one
 * message per group at a time, so a receive with several messages of a group, as SQS can return, has to be
 * built by hand. A body ending in "fail" fails its handler; handlers take `handlerMs`.
 */
async function fifoDispatcher(options: { handlerMs: number; visibilityTimeoutSeconds: number; messages: number }) {
  getRegistry().clear();
  const queue = receiver("orders.fifo", async () => {}).queue;
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const failed: Outcome = {
    kind: "failed",
    phase: "handler",
    error: { name: "Error", message: "no", stack: undefined, code: undefined },
    durationMs: 1,
  };
  const pool = {
    run(task: { messages: { body: string }[] }) {
      const body = task.messages[0]!.body;
      log.push(`start ${body}`);
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      const outcome = new Promise<Outcome[]>((resolve) =>
        setTimeout(() => {
          running -= 1;
          log.push(`end ${body}`);
          resolve([body.endsWith("fail") ? failed : { kind: "ok", durationMs: 1 }]);
        }, options.handlerMs),
      );
      return { taskId: 1, outcome, abort: () => undefined, terminateThread: async () => false };
    },
  } as unknown as HandlerPool;
  const acker = {
    delete: async (target: AckTarget) => (log.push(`delete ${target.messageId}`), true),
    changeVisibility: async (target: AckTarget, seconds: number) => (
      log.push(`${seconds === 0 ? "release" : "extend"} ${target.messageId}`),
      true
    ),
  } as unknown as Acker;
  const capacity = new Capacity(10);
  // As a poller would: one slot for each message about to be accepted.
  assert.equal(await capacity.acquire("orders.fifo", options.messages, new AbortController().signal), options.messages);
  const dispatcher = new Dispatcher({
    pool,
    acker,
    capacity,
    logger: memoryLogger().logger,
    events: new SupervisorEmitter(),
    defaultRetry: false,
    onProcessed: () => undefined,
  });
  const target = {
    queue,
    suffix: undefined,
    fullName: "orders.fifo",
    url: "https://sqs/orders.fifo",
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
  };
  const accept = (...messages: [id: string, group: string][]): void =>
    dispatcher.accept(
      target,
      messages.map(([id, group]): Message => ({
        MessageId: id,
        ReceiptHandle: `r-${id}`,
        Body: id,
        Attributes: { MessageGroupId: group, ApproximateReceiveCount: "1" },
      })),
    );
  const of = (action: string): string[] =>
    log.filter((line) => line.startsWith(`${action} `)).map((line) => line.slice(action.length + 1));
  return { dispatcher, capacity, log, of, accept, maxRunning: () => maxRunning };
}

describe("FIFO dispatch", () => {
  it("runs a group's messages one after another, and gives back the ones after a failure", async () => {
    const { dispatcher, capacity, of, accept, maxRunning } = await fifoDispatcher({
      handlerMs: 5,
      visibilityTimeoutSeconds: 30,
      messages: 6,
    });
    accept(["A1", "A"], ["B1", "B"], ["A2-fail", "A"], ["B2", "B"], ["A3", "A"], ["A4", "A"]);
    await eventually(() => dispatcher.inFlight === 0);

    const ran = of("start");
    assert.deepEqual(
      ran.filter((body) => body.startsWith("A")),
      ["A1", "A2-fail"],
      "group A stopped at its failure",
    );
    assert.deepEqual(
      ran.filter((body) => body.startsWith("B")),
      ["B1", "B2"],
    );
    assert.equal(maxRunning(), 2, "the two groups ran side by side, one message each");
    assert.deepEqual(of("release").sort(), ["A3", "A4"], "the later messages of A went back");
    assert.deepEqual(of("delete").sort(), ["A1", "B1", "B2"]);
    assert.equal(capacity.inUse, 0, "every slot was returned");
  });

  it("keeps a waiting message's visibility from receipt, before its turn comes", async () => {
    // A1 runs 1.5 visibility timeouts; A2 waits behind it all that time. Without a heartbeat from receipt,
    // A2 would become visible in SQS while it waits, and be delivered again.
    const { dispatcher, log, accept } = await fifoDispatcher({
      handlerMs: 1_500,
      visibilityTimeoutSeconds: 1,
      messages: 2,
    });
    accept(["A1", "A"], ["A2", "A"]);
    await eventually(() => dispatcher.inFlight === 0, { timeoutMs: 10_000 });
    const extendedWhileWaiting = log.indexOf("extend A2");
    assert.ok(extendedWhileWaiting >= 0, `A2's visibility was extended: ${log.join(", ")}`);
    assert.ok(extendedWhileWaiting < log.indexOf("start A2"), `before A2 started: ${log.join(", ")}`);
  });

  it("gives back a group's unstarted messages when a drain begins, and finishes the running one", async () => {
    const { dispatcher, capacity, of, accept } = await fifoDispatcher({
      handlerMs: 300,
      visibilityTimeoutSeconds: 30,
      messages: 3,
    });
    accept(["A1", "A"], ["A2", "A"], ["A3", "A"]);
    await eventually(() => of("start").includes("A1"));
    dispatcher.beginDrain();
    await eventually(() => dispatcher.inFlight === 0);
    assert.deepEqual(of("start"), ["A1"], "nothing new started during the drain");
    assert.deepEqual(of("delete"), ["A1"], "the running message finished");
    assert.deepEqual(of("release"), [], "releases wait while the drain still has receives under way");
    dispatcher.releaseHeld();
    await eventually(() => of("release").length === 2);
    assert.deepEqual(of("release"), ["A2", "A3"]);
    assert.equal(capacity.inUse, 0, "every slot was returned");
  });
});
