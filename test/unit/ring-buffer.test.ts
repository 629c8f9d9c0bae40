import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { percentile } from "../../src/http/live-sampler.js";
import { RingBuffer } from "../../src/util/ring-buffer.js";

describe("RingBuffer", () => {
  it("keeps the last `capacity` items, oldest first", () => {
    const ring = new RingBuffer<number>(3);
    assert.deepEqual(ring.toArray(), []);
    for (const item of [1, 2]) ring.push(item);
    assert.deepEqual(ring.toArray(), [1, 2]);
    for (const item of [3, 4, 5]) ring.push(item);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
    assert.equal(ring.size, 3);
  });

  it("refuses a capacity that is not a positive integer, naming it", () => {
    assert.throws(() => new RingBuffer(0), /capacity must be an integer >= 1, got 0/);
  });
});

describe("percentile", () => {
  it("takes the nearest rank of sorted values", () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    assert.equal(percentile(values, 0.5), 50);
    assert.equal(percentile(values, 0.95), 95);
    assert.equal(percentile([7], 0.95), 7);
  });
});
