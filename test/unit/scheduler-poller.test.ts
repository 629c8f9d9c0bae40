import type { Message, ReceiveMessageCommandInput, ReceiveMessageCommandOutput } from "@aws-sdk/client-sqs";
import { afterEach, describe, it } from "node:test";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import type { SqsHotPath } from "../../src/sqs/hot-path.js";
import { Poller } from "../../src/supervisor/poller.js";
import type { ReceiveRoom } from "../../src/supervisor/receive-room.js";
import type { PollTarget } from "../../src/supervisor/target.js";
import { eventually } from "../helpers/eventually.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/**
 * The poller's lane bookkeeping alone (issue #19's review leftovers), over a receive path whose answers the
 * test gives one by one and a room that always has space. Receives against a real server are covered by the
 * integration tests; here the order in which answers land is what matters, and the test picks it.
 */

/** One ReceiveMessage call, answered when the test says. */
interface Call {
  readonly input: ReceiveMessageCommandInput;
  answer(messages: number): void;
  answered: boolean;
}

function harness(options: { maxLanes: number }) {
  getRegistry().clear();
  const calls: Call[] = [];
  let sent = 0;
  const sqs = {
    transport: "sdk",
    receiveMessage(input: ReceiveMessageCommandInput): Promise<ReceiveMessageCommandOutput> {
      return new Promise((resolve) => {
        const call: Call = {
          input,
          answered: false,
          answer(count) {
            call.answered = true;
            const messages: Message[] = Array.from({ length: count }, () => {
              sent += 1;
              return { MessageId: `m${sent}`, ReceiptHandle: `r${sent}`, Body: "{}" };
            });
            resolve({ Messages: count > 0 ? messages : undefined, $metadata: {} });
          },
        };
        calls.push(call);
      });
    },
    deleteMessageBatch: () => Promise.reject(new Error("not used")),
    changeMessageVisibilityBatch: () => Promise.reject(new Error("not used")),
  } satisfies SqsHotPath;
  let underWay = 0;
  let ended = 0;
  const room: ReceiveRoom = {
    receiveSize: (want) => Math.min(want, 10),
    idleWant: 1,
    buffered: 0,
    waitingToStart: 0,
    get receivesUnderWay() {
      return underWay;
    },
    generation: 0,
    roomChanged: (_generation, _need, _primary, signal) =>
      new Promise((resolve) => signal.addEventListener("abort", () => resolve())),
    beginReceive: () => (underWay += 1),
    endReceive: () => {
      underWay -= 1;
      ended += 1;
    },
  };
  const target: PollTarget = {
    queue: receiver("jobs", {}, async () => {}).queue,
    suffix: undefined,
    fullName: "jobs",
    url: "https://sqs.test/jobs",
    visibilityTimeoutSeconds: 30,
  };
  const poller = new Poller({
    target,
    sqs,
    room,
    logger: memoryLogger().logger,
    waitTimeSeconds: 20,
    errorBackoff: { initialMs: 100, maxMs: 1_000 },
    // Far longer than any wait below: a pause that a wake does not end fails the test.
    idleBackoff: { initialMs: 600_000, maxMs: 600_000 },
    maxLanes: options.maxLanes,
  });
  disposers.push(async () => {
    const stopped = poller.stop();
    // Lanes end once their receives return: answer every call still open, as a long poll's wait would.
    let done = false;
    void stopped.then(() => (done = true));
    while (!done) {
      for (const call of calls) if (!call.answered) call.answer(0);
      await new Promise((resolve) => setImmediate(resolve));
    }
    getRegistry().clear();
  });
  return { poller, calls, ended: () => ended };
}

const disposers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0)) await dispose();
});

describe("Poller lanes", () => {
  it("after a watchdog restart, the replaced lane's empty answer does not take the wake meant for the new lane", async () => {
    const { poller, calls, ended } = harness({ maxLanes: 1 });
    poller.start();
    await eventually(() => calls.length === 1);
    // The first receive hangs; the watchdog starts a new primary lane beside it.
    poller.restart();
    await eventually(() => calls.length === 2);
    // The new lane's receive comes back empty: it pauses for its idle backoff.
    calls[1]!.answer(0);
    await eventually(() => poller.holding());
    // Then the replaced lane's receive comes back empty. Before the fix it still counted as the primary lane and
    // started an idle pause of its own, which replaced the wake's controller: the wake below reached that one.
    calls[0]!.answer(0);
    await eventually(() => ended() === 2);
    poller.wake();
    await eventually(() => calls.length === 3, { timeoutMs: 5_000, message: "the wake did not end the idle pause" });
  });

  it("a wake seen by one lane's receive is still seen by the primary lane's answer on its way back", async () => {
    const { poller, calls } = harness({ maxLanes: 2 });
    poller.start();
    await eventually(() => calls.length === 1);
    // A full receive: an extra lane starts (call 2), and the primary lane receives again (call 3).
    calls[0]!.answer(1);
    await eventually(() => calls.length === 3);
    poller.wake();
    // The extra lane's receive brings a message and it receives again: a receive that began after the wake.
    calls[1]!.answer(1);
    await eventually(() => calls.length === 4);
    // The primary lane's receive, under way when the wake came, comes back empty. Before the fix the extra
    // lane's new receive had cleared the one shared wake flag, and the primary lane paused for its backoff.
    calls[2]!.answer(0);
    await eventually(() => calls.length === 5, {
      timeoutMs: 5_000,
      message: "the primary lane paused despite the wake",
    });
  });
});
