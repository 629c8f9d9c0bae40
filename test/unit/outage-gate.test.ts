import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OutageGate } from "../../src/supervisor/outage-gate.js";

describe("OutageGate", () => {
  it("lets everything through while SQS answers", async () => {
    const gate = new OutageGate();
    assert.deepEqual(await Promise.all([gate.enter(), gate.enter(), gate.enter()]), [true, true, true]);
  });

  it("lets one probe at a time through while SQS fails, and everyone once a probe succeeds", async () => {
    const gate = new OutageGate();
    gate.failed();
    assert.equal(gate.failing, true);
    const passed: number[] = [];
    const callers = [0, 1, 2, 3].map(async (caller) => {
      if (await gate.enter()) passed.push(caller);
    });
    // After the backoff step exactly one caller passes, as the probe; the rest wait for its answer.
    while (passed.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(passed.length, 1, "one probe");
    gate.succeeded();
    await Promise.all(callers);
    assert.equal(passed.length, 4, "all through after the probe succeeded");
    assert.equal(gate.failing, false);
  });

  it("gives up on a caller whose deadline comes first", async () => {
    const gate = new OutageGate();
    gate.failed();
    assert.equal(await gate.enter(Date.now() - 1), false);
  });
});
