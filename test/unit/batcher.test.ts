import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Batcher } from "../../src/supervisor/batcher.js";

describe("Batcher", () => {
  it("sends ten entries per batch at once, and the rest after the delay", async () => {
    const batches: { key: string; entries: readonly number[] }[] = [];
    const batcher = new Batcher<number>(
      async (key, entries) => {
        batches.push({ key, entries });
        return entries.map(() => true);
      },
      { delayMs: 5 },
    );
    const results = await Promise.all(Array.from({ length: 23 }, (_, index) => batcher.add("q", index)));
    assert.ok(results.every((result) => result));
    assert.deepEqual(
      batches.map((batch) => batch.entries.length),
      [10, 10, 3],
    );
  });

  it("keeps keys apart and reports per-entry results", async () => {
    const batcher = new Batcher<string>(
      async (key, entries) => entries.map((entry) => key === "a" && entry !== "bad"),
      {
        delayMs: 1,
      },
    );
    const results = await Promise.all([batcher.add("a", "good"), batcher.add("a", "bad"), batcher.add("b", "good")]);
    assert.deepEqual(results, [true, false, false]);
  });

  it("resolves false for every entry when the executor gives up", async () => {
    const batcher = new Batcher<number>(async () => Promise.reject(new Error("network down")), { delayMs: 1 });
    assert.deepEqual(await Promise.all([batcher.add("q", 1), batcher.add("q", 2)]), [false, false]);
  });

  it("flush sends what is waiting without the delay, and waits for it", async () => {
    let sent = 0;
    const batcher = new Batcher<number>(
      async (_, entries) => {
        sent += entries.length;
        return entries.map(() => true);
      },
      { delayMs: 3_600_000 },
    );
    void batcher.add("q", 1);
    void batcher.add("r", 2);
    await batcher.flush();
    assert.equal(sent, 2);
  });
});
