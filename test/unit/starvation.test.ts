import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { QueueLoad } from "../../src/supervisor/scheduler.js";
import { findStarved, type StarvationContext } from "../../src/supervisor/starvation.js";

const NOW = 1_000_000;
const load = (overrides: Partial<QueueLoad> = {}): QueueLoad => ({
  queue: "jobs",
  fifo: false,
  buffered: 0,
  running: 0,
  starvedSince: undefined,
  lastStartAt: undefined,
  ...overrides,
});
const context = (overrides: Partial<StarvationContext> = {}): StarvationContext => ({
  now: NOW,
  limitMs: 60_000,
  waitMs: 20_000,
  slotFree: true,
  startedAt: 0,
  visible: () => undefined,
  holding: () => false,
  ...overrides,
});

describe("findStarved", () => {
  it("flags buffered work that waited with a free slot past stallSeconds, and nothing sooner", () => {
    assert.deepEqual(findStarved([load({ buffered: 3, starvedSince: NOW - 60_001 })], context()), [
      { queue: "jobs", waitingMs: 60_001, evidence: "buffered" },
    ]);
    assert.deepEqual(findStarved([load({ buffered: 3, starvedSince: NOW - 59_000 })], context()), []);
  });

  it("flags messages SQS reported visible long after the queue last started one, with a slot free", () => {
    const visible = () => ({ count: 4, asOf: NOW - 1_000, since: 0 });
    const stale = load({ lastStartAt: NOW - 1_000 - 20_000 - 60_001 });
    assert.deepEqual(findStarved([stale], context({ visible })), [
      { queue: "jobs", waitingMs: 60_001, evidence: "visible" },
    ]);
    // Any of these makes it healthy: a recent start, no free slot, an empty count, work still buffered.
    assert.deepEqual(findStarved([load({ lastStartAt: NOW - 5_000 })], context({ visible })), []);
    assert.deepEqual(findStarved([stale], context({ visible, slotFree: false })), []);
    assert.deepEqual(findStarved([stale], context({ visible: () => ({ count: 0, asOf: NOW, since: NOW }) })), []);
    assert.deepEqual(findStarved([{ ...stale, buffered: 2 }], context({ visible })), []);
  });

  it("counts from the start of polling, not from the epoch, for a queue that never started a message", () => {
    const visible = () => ({ count: 1, asOf: NOW, since: 0 });
    assert.deepEqual(findStarved([load()], context({ visible, startedAt: NOW - 10_000 })), []);
    assert.equal(findStarved([load()], context({ visible, startedAt: NOW - 90_000 })).length, 1);
  });

  it("judges visible messages from when the reads first showed them, not from the queue's last start", () => {
    // Idle for an hour, then a message arrived: the first read that shows it starts the clock.
    const justSeen = () => ({ count: 1, asOf: NOW, since: NOW - 5_000 });
    assert.deepEqual(findStarved([load({ lastStartAt: NOW - 3_600_000 })], context({ visible: justSeen })), []);
  });

  it("leaves visible messages alone while the poller waits on purpose, and on FIFO queues", () => {
    const visible = () => ({ count: 4, asOf: NOW, since: 0 });
    const holding = (): boolean => true;
    assert.deepEqual(findStarved([load()], context({ visible, holding })), []);
    assert.deepEqual(findStarved([load({ fifo: true })], context({ visible })), []);
    assert.equal(findStarved([load()], context({ visible })).length, 1, "otherwise flagged");
  });

  it("flags buffered work whatever the poller does: a scheduling fault", () => {
    const holding = (): boolean => true;
    assert.equal(findStarved([load({ buffered: 1, starvedSince: 0 })], context({ holding })).length, 1);
  });
});
