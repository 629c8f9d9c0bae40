import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryDelaySeconds } from "../../src/supervisor/retry.js";

describe("retry delays", () => {
  it("leaves the message to its visibility timeout when no retry is set", () => {
    assert.equal(retryDelaySeconds(undefined, 1), undefined);
    assert.equal(retryDelaySeconds(false, 3), undefined);
  });

  it("doubles from baseSeconds by receive count, up to maxSeconds", () => {
    const retry = { backoff: "exponential", baseSeconds: 10, maxSeconds: 100 } as const;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((count) => retryDelaySeconds(retry, count)),
      [10, 20, 40, 80, 100, 100],
    );
    assert.equal(retryDelaySeconds({ backoff: "exponential" }, 1), 10);
    assert.equal(retryDelaySeconds({ backoff: "exponential" }, 10), 900);
  });

  it("takes a list by receive count, repeating its last entry", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 9].map((count) => retryDelaySeconds([5, 60, 300], count)),
      [5, 60, 300, 300, 300],
    );
  });

  it("never asks for more than SQS's 12-hour visibility ceiling", () => {
    assert.equal(retryDelaySeconds({ backoff: "exponential", baseSeconds: 43_200, maxSeconds: 43_200 }, 30), 43_200);
  });
});
