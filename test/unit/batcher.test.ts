import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Batcher } from "../../src/util/batcher.js";

describe("Batcher", () => {
  it("sends ten entries per batch at once, and the rest after the delay", async () => {
    const batches: { key: string; entries: readonly number[] }[] = [];
    const batcher = new Batcher<number, boolean>(
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
    const batcher = new Batcher<string, boolean>(
      async (key, entries) => entries.map((entry) => key === "a" && entry !== "bad"),
      {
        delayMs: 1,
      },
    );
    const results = await Promise.all([batcher.add("a", "good"), batcher.add("a", "bad"), batcher.add("b", "good")]);
    assert.deepEqual(results, [true, false, false]);
  });

  it("rejects every entry with the executor's error when it gives up on the batch", async () => {
    const batcher = new Batcher<number, boolean>(async () => Promise.reject(new Error("network down")), { delayMs: 1 });
    const results = await Promise.allSettled([batcher.add("q", 1), batcher.add("q", 2)]);
    assert.deepEqual(
      results.map((result) => result.status === "rejected" && (result.reason as Error).message),
      ["network down", "network down"],
    );
  });

  it("closes a batch before an entry would take it past the byte limit", async () => {
    const sizes: number[][] = [];
    const batcher = new Batcher<number, boolean>(
      async (_, entries) => {
        sizes.push([...entries]);
        return entries.map(() => true);
      },
      { delayMs: 5, sizeOf: (entry) => entry, maxBatchBytes: 100 },
    );
    await Promise.all([60, 30, 20, 50, 50, 1].map((size) => batcher.add("q", size)));
    assert.deepEqual(sizes, [
      [60, 30],
      [20, 50],
      [50, 1],
    ]);
  });

  it("runs one batch per key at a time, in order, when serial", async () => {
    const events: string[] = [];
    let release!: () => void;
    const firstBatchHeld = new Promise<void>((resolve) => (release = resolve));
    const batcher = new Batcher<string, boolean>(
      async (_, entries) => {
        events.push(`start ${entries.join(",")}`);
        if (entries[0] === "a") await firstBatchHeld;
        events.push(`end ${entries.join(",")}`);
        return entries.map(() => true);
      },
      { delayMs: 1, serial: true },
    );
    const first = batcher.add("q", "a");
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = batcher.add("q", "b");
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(events, ["start a"], "the second batch waits for the first");
    release();
    await Promise.all([first, second]);
    assert.deepEqual(events, ["start a", "end a", "start b", "end b"]);
  });

  it("flush sends what is waiting without the delay, and waits for it", async () => {
    let sent = 0;
    const batcher = new Batcher<number, boolean>(
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
