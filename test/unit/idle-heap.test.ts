import assert from "node:assert/strict";
import { test } from "node:test";
import { FIRST_COMPACTION_IDLE_MS, LATER_COMPACTION_IDLE_MS, compactWhenIdle } from "../../workers/idle-heap.js";
import { FakeClock } from "../helpers/fake-clock.js";

/** A runner whose tasks end when the test says, and a count of the compactions it saw. */
function setUp() {
  const clock = new FakeClock();
  let compactions = 0;
  const ends: (() => void)[] = [];
  const run = compactWhenIdle(() => new Promise<void>((resolve) => ends.push(resolve)), {
    clock,
    compact: () => (compactions += 1),
  });
  return { clock, run, ends, compactions: () => compactions };
}

test("a thread idle after start-up compacts once, and not again while it runs nothing", async () => {
  const { clock, compactions } = setUp();
  await clock.advance(FIRST_COMPACTION_IDLE_MS - 1);
  assert.equal(compactions(), 0);
  await clock.advance(1);
  assert.equal(compactions(), 1);
  await clock.advance(10 * LATER_COMPACTION_IDLE_MS);
  assert.equal(compactions(), 1, "nothing ran since: nothing grew");
  assert.equal(clock.live, 0);
});

test("a busy thread is not compacted; it is once idle, from its last task's end", async () => {
  const { clock, run, ends, compactions } = setUp();
  const first = run(undefined);
  await clock.advance(10 * LATER_COMPACTION_IDLE_MS);
  assert.equal(compactions(), 0, "a task runs the whole time");
  ends.shift()!();
  await first;
  await clock.advance(FIRST_COMPACTION_IDLE_MS - 1);
  assert.equal(compactions(), 0);
  await clock.advance(1);
  assert.equal(compactions(), 1);
});

test("after its first compaction, a thread that ran tasks compacts again only after the longer idle", async () => {
  const { clock, run, ends, compactions } = setUp();
  await clock.advance(FIRST_COMPACTION_IDLE_MS);
  assert.equal(compactions(), 1);
  const task = run(undefined);
  ends.shift()!();
  await task;
  await clock.advance(LATER_COMPACTION_IDLE_MS - 1);
  assert.equal(compactions(), 1);
  // Another task before the idle wait ends starts it over.
  const next = run(undefined);
  ends.shift()!();
  await next;
  await clock.advance(LATER_COMPACTION_IDLE_MS - 1);
  assert.equal(compactions(), 1);
  await clock.advance(1);
  assert.equal(compactions(), 2);
  assert.equal(clock.live, 0);
});
