import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { schedulerHarness, settle, type HarnessLimits } from "../helpers/scheduler-harness.js";

/**
 * Which waits for room a change ends (issue #19): a change of one queue's counts wakes that queue's waiting
 * poller, and another queue's only once a term across queues (the buffer ceiling, the message limit) meets
 * what its hold needs. Before, every change woke every waiting poller of every queue.
 */
const disposers: (() => void)[] = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

/** The shared harness, disposed after the test; `wait` checks that the poller is held before it waits. */
function harness(names: readonly string[], limits: HarnessLimits) {
  const h = schedulerHarness(names, limits);
  disposers.push(() => h.dispose());
  const receive = (index: number, ...ids: string[]): void => h.receive(index, ids);
  const wait = (index: number, need: number): { readonly woke: boolean } => {
    assert.ok(h.room(index).receiveSize(10, true) < need, "the poller is held");
    const held = h.hold(index, need);
    return {
      get woke() {
        return held.woken;
      },
    };
  };
  return { receive, finishNext: h.finishNext, wait };
}

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
