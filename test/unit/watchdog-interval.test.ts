import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { watchdogIntervalMs } from "../../src/supervisor/watchdog.js";

describe("the watchdog's interval", () => {
  it("is a second for short stall limits, so a restart comes as soon as it did", () => {
    assert.equal(watchdogIntervalMs(1), 1_000);
    assert.equal(watchdogIntervalMs(2), 1_000);
    assert.equal(watchdogIntervalMs(10), 1_000);
  });

  it("is a tenth of stallSeconds in between, and 5 s at most (the default 60 s limit)", () => {
    assert.equal(watchdogIntervalMs(30), 3_000);
    assert.equal(watchdogIntervalMs(60), 5_000);
    assert.equal(watchdogIntervalMs(3_600), 5_000);
  });
});
