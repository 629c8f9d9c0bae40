import assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { afterEach, describe, it } from "node:test";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import type { Acker } from "../../src/supervisor/acker.js";
import type { Delivery } from "../../src/supervisor/delivery.js";
import { Scheduler, type SchedulerOptions } from "../../src/supervisor/scheduler.js";
import type { PollTarget } from "../../src/supervisor/target.js";
import { VisibilityKeeper } from "../../src/supervisor/visibility-keeper.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/**
 * Which waits for room a change ends (issue #19): a change of one queue's counts wakes that queue's waiting
 * poller, and another queue's only once a term across queues (the buffer ceiling, the message limit) meets
 * what its hold needs. Before, every change woke every waiting poller of every queue.
 */
const disposers: (() => void)[] = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

/** A scheduler over `names`, whose started deliveries run until `finishNext()` ends the oldest. */
function harness(
  names: readonly string[],
  options: Partial<Pick<SchedulerOptions, "maxInFlight" | "prefetch" | "maxBuffered" | "messageLimit">>,
) {
  getRegistry().clear();
  const running: Delivery[] = [];
  const acker = { changeVisibility: async () => true } as unknown as Acker;
  const targets: PollTarget[] = names.map((name) => ({
    queue: receiver(name, {}, async () => {}).queue,
    suffix: undefined,
    fullName: name,
    url: `https://sqs/${name}`,
    visibilityTimeoutSeconds: 30,
  }));
  const scheduler = new Scheduler(targets, {
    maxInFlight: 1,
    prefetch: 10,
    maxBuffered: 100,
    ...options,
    keeper: new VisibilityKeeper(acker, memoryLogger().logger),
    start: (deliveries) => running.push(...deliveries),
    release: () => undefined,
  });
  const room = (index: number) => scheduler.room(targets[index]!);
  /** Admits messages to a queue as one receive would. */
  const receive = (index: number, ...ids: string[]): void => {
    room(index).beginReceive(ids.length, true);
    room(index).endReceive(
      ids.length,
      true,
      ids.map((id): Message => ({ MessageId: id, ReceiptHandle: `r-${id}`, Body: id, Attributes: {} })),
    );
  };
  /** Ends the oldest running delivery: counted (its handler ran), or given back uncounted. */
  const finishNext = (counted = true): void => void running.shift()?.finish({ counted, succeeded: counted });
  const stop = new AbortController();
  disposers.push(() => {
    stop.abort();
    scheduler.beginDrain();
    scheduler.releaseAll();
    while (running.length > 0) finishNext();
  });
  /** Starts a primary lane's wait for room for a receive of `need`, as a held poller does; reports when it ends. */
  const wait = (index: number, need: number): { readonly woke: boolean } => {
    const generation = room(index).generation;
    assert.ok(room(index).receiveSize(10, true) < need, "the poller is held");
    const state = { woke: false };
    void room(index)
      .roomChanged(generation, need, true, stop.signal)
      .then(() => (state.woke = !stop.signal.aborted));
    return state;
  };
  return { scheduler, room, receive, finishNext, wait };
}

/** Lets every resolved wait run its continuation. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Scheduler: which waits a change ends", () => {
  it("wakes no poller held by its own full buffer when another queue changes", async () => {
    const { receive, finishNext, wait } = harness(["a", "b"], { prefetch: 2 });
    receive(0, "a1", "a2", "a3"); // a1 runs; a2 and a3 fill a's buffer
    const a = wait(0, 1);
    receive(1, "b1", "b2"); // b's counts change twice
    await settle();
    assert.equal(a.woke, false, "b's receive woke a's poller, whose room did not change");
    finishNext(); // a1 ends and a2 starts: a's buffer has room
    await settle();
    assert.equal(a.woke, true, "a's own change ends its wait");
  });

  it("wakes a poller held by the buffer ceiling once the ceiling allows what it needs, not before", async () => {
    const { receive, finishNext, wait } = harness(["a", "b"], { maxBuffered: 4 });
    receive(1, "b1", "b2", "b3", "b4", "b5"); // b1 runs; 4 buffered: the ceiling is full
    // A primary lane under a backlog needs a receive of 3: one message past the ceiling, and room for 2 more.
    const a = wait(0, 3);
    finishNext(); // b2 starts: room for 1 under the ceiling, a receive of 2
    await settle();
    assert.equal(a.woke, false, "room for 2 cannot end a hold that needs 3");
    finishNext(); // b3 starts: room for 2, a receive of 3
    await settle();
    assert.equal(a.woke, true, "the ceiling now allows the receive the hold needs");
  });

  it("wakes a poller held by the message limit only when budget comes back", async () => {
    const { receive, finishNext, wait } = harness(["a", "b"], { messageLimit: 3, maxInFlight: 3 });
    receive(1, "b1", "b2", "b3"); // all three run: the budget is spent
    const a = wait(0, 1);
    receive(1); // an empty receive of b changes b's counts, not the budget
    finishNext(); // b1 is processed: one more processed, one fewer held, the budget stays spent
    await settle();
    assert.equal(a.woke, false, "a change that left the budget spent woke the poller");
    finishNext(false); // b2 goes back uncounted: one message of budget again
    await settle();
    assert.equal(a.woke, true, "the budget that came back ends the wait");
  });
});
