import assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { describe, it } from "node:test";
import type { Outcome } from "../../src/protocol.js";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import type { Acker, AckTarget } from "../../src/supervisor/acker.js";
import { Capacity } from "../../src/supervisor/capacity.js";
import { Dispatcher } from "../../src/supervisor/dispatcher.js";
import { SupervisorEmitter } from "../../src/supervisor/events.js";
import type { HandlerPool } from "../../src/supervisor/pool.js";
import { eventually } from "../helpers/eventually.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/**
 * The dispatcher's FIFO rule, with a stand-in pool and acker: a real SQS server (fauxqs) hands out one
 * message per group at a time, so a receive with several messages of a group, as SQS can return, has to be
 * built by hand. Each message's body says whether its handler succeeds.
 */
describe("FIFO dispatch", () => {
  it("runs a group's messages one after another, and gives back the ones after a failure", async () => {
    getRegistry().clear();
    const queue = receiver("orders.fifo", async () => {}).queue;
    const ran: string[] = [];
    let running = 0;
    let maxRunningPerGroup = 0;
    const pool = {
      run(task: { messages: { body: string }[] }) {
        const body = task.messages[0]!.body;
        ran.push(body);
        running += 1;
        maxRunningPerGroup = Math.max(maxRunningPerGroup, running);
        const outcome: Promise<Outcome[]> = new Promise((resolve) =>
          setTimeout(() => {
            running -= 1;
            resolve([
              body.endsWith("fail")
                ? {
                    kind: "failed",
                    phase: "handler",
                    error: { name: "Error", message: "no", stack: undefined, code: undefined },
                    durationMs: 1,
                  }
                : { kind: "ok", durationMs: 1 },
            ]);
          }, 5),
        );
        return { taskId: 1, outcome, abort: () => undefined, terminateThread: async () => false };
      },
    } as unknown as HandlerPool;
    const released: string[] = [];
    const deleted: string[] = [];
    const acker = {
      delete: async (target: AckTarget) => (deleted.push(target.messageId), true),
      changeVisibility: async (target: AckTarget, seconds: number) => (
        seconds === 0 && released.push(target.messageId),
        true
      ),
    } as unknown as Acker;
    const capacity = new Capacity(10);
    // As a poller would: one slot for each of the six messages below.
    assert.equal(await capacity.acquire("orders.fifo", 6, new AbortController().signal), 6);
    const dispatcher = new Dispatcher({
      pool,
      acker,
      capacity,
      logger: memoryLogger().logger,
      events: new SupervisorEmitter(),
      defaultRetry: false,
      onProcessed: () => undefined,
    });
    const message = (id: string, group: string): Message => ({
      MessageId: id,
      ReceiptHandle: `r-${id}`,
      Body: id,
      Attributes: { MessageGroupId: group, ApproximateReceiveCount: "1" },
    });
    const target = {
      queue,
      suffix: undefined,
      fullName: "orders.fifo",
      url: "https://sqs/orders.fifo",
      visibilityTimeoutSeconds: 30,
    };
    dispatcher.accept(target, [
      message("A1", "A"),
      message("B1", "B"),
      message("A2-fail", "A"),
      message("B2", "B"),
      message("A3", "A"),
      message("A4", "A"),
    ]);
    await eventually(() => dispatcher.inFlight === 0);

    assert.deepEqual(
      ran.filter((body) => body.startsWith("A")),
      ["A1", "A2-fail"],
      "group A stopped at its failure",
    );
    assert.deepEqual(
      ran.filter((body) => body.startsWith("B")),
      ["B1", "B2"],
    );
    assert.equal(maxRunningPerGroup, 2, "the two groups ran side by side, one message each");
    assert.deepEqual(released.sort(), ["A3", "A4"], "the later messages of A went back");
    assert.deepEqual(deleted.sort(), ["A1", "B1", "B2"]);
    assert.equal(capacity.inUse, 0, "every slot was returned");
  });
});
