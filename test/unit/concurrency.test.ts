import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mapWithConcurrency } from "../../src/util/concurrency.js";

describe("mapWithConcurrency", () => {
  it("keeps the order of the results and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running -= 1;
      return n * 10;
    });
    assert.deepEqual(results, [50, 10, 40, 20, 30, 0]);
    assert.equal(most, 2);
  });

  it("rejects with the first failure and starts nothing after it", async () => {
    const started: number[] = [];
    await assert.rejects(
      mapWithConcurrency([1, 2, 3, 4], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error("no");
        return n;
      }),
      /no/,
    );
    assert.deepEqual(started, [1, 2]);
  });
});
