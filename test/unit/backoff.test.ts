import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Backoff, sleep } from "../../src/util/backoff.js";

describe("Backoff", () => {
  it("doubles up to the ceiling and waits at least half of it", () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(() => low.next()),
      [50, 100, 200, 400, 500, 500],
    );
    const high = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0.999);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => high.next()),
      [99, 199, 399, 799, 999],
    );
  });

  it("starts over after reset", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0);
    backoff.next();
    backoff.next();
    assert.equal(backoff.attempt, 2);
    backoff.reset();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 50);
  });

  it("never returns 0, so a retry loop always yields", () => {
    assert.equal(new Backoff({ initialMs: 1, maxMs: 1 }, () => 0).next(), 1);
  });
});

describe("sleep", () => {
  it("ends early, without rejecting, when its signal aborts", async () => {
    const controller = new AbortController();
    const slept = sleep(3_600_000, controller.signal).then(() => "woke");
    controller.abort();
    // Were the abort ignored, this would wait an hour and the runner's timeout would fail the test.
    assert.equal(await slept, "woke");
  });
});
