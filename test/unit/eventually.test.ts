import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";

/** The test suite's own wait helper: every other test's deadline depends on it. */
describe("eventually", () => {
  it("fails by its deadline when a check never settles", async () => {
    await assert.rejects(
      eventually(() => new Promise<boolean>(() => {}), { timeoutMs: 100 }),
      /^Error: condition not met within 100 ms \(the last check had not settled\)$/,
    );
    let calls = 0;
    const failsThenHangs = () => {
      if (++calls === 1) throw new Error("not yet");
      return new Promise<boolean>(() => {});
    };
    await assert.rejects(
      eventually(failsThenHangs, { timeoutMs: 100, intervalMs: 1 }),
      /^Error: condition not met within 100 ms: not yet \(the last check had not settled\)$/,
    );
  });

  it("returns the first value that passes, and reports the last failure otherwise", async () => {
    let calls = 0;
    assert.equal(await eventually(() => ++calls === 3 && "third", { intervalMs: 1 }), "third");
    await assert.rejects(
      eventually(
        () => {
          throw new Error("not yet");
        },
        { timeoutMs: 20, intervalMs: 1, message: "never" },
      ),
      /^Error: never within 20 ms: not yet$/,
    );
  });
});
