import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Permits } from "../../src/util/permits.js";

describe("Permits", () => {
  it("lets `size` holders in at once and serves later callers in order", async () => {
    const permits = new Permits(2);
    const order: string[] = [];
    assert.equal(await permits.acquire(), true);
    assert.equal(await permits.acquire(), true);
    const third = permits.acquire().then((granted) => order.push(`third ${granted}`));
    const fourth = permits.acquire().then((granted) => order.push(`fourth ${granted}`));
    await Promise.resolve();
    assert.deepEqual([permits.free, permits.waiting, order], [0, 2, []]);
    permits.release();
    await third;
    assert.deepEqual(order, ["third true"]);
    permits.release();
    await fourth;
    assert.deepEqual(order, ["third true", "fourth true"]);
    permits.release();
    permits.release();
    assert.equal(permits.free, 2);
  });

  it("takes a caller whose signal aborts out of the line without a permit", async () => {
    const permits = new Permits(1);
    await permits.acquire();
    const abort = new AbortController();
    const leaving = permits.acquire(abort.signal);
    const staying = permits.acquire();
    abort.abort();
    assert.equal(await leaving, false);
    assert.equal(permits.waiting, 1);
    permits.release();
    assert.equal(await staying, true, "the permit went to the next in line");
    assert.equal(await permits.acquire(AbortSignal.abort()), false, "an aborted signal never waits");
  });

  it("refuses a size that is not a whole number ≥ 1", () => {
    assert.throws(() => new Permits(0), RangeError);
    assert.throws(() => new Permits(1.5), RangeError);
  });
});
