import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_MISSED_TICKS, Ticker } from "../../src/schedules/ticker.js";
import { parseCron } from "../../src/util/cron.js";

const T0 = Date.parse("2026-01-01T00:00:00.500Z");
const at = (seconds: number): string => new Date(Date.parse("2026-01-01T00:00:00Z") + seconds * 1000).toISOString();

const LATE_LIMIT_MS = 240_000;

function everyTwoSeconds(): { ticker: Ticker; ticks: string[]; dropped: string[] } {
  const ticks: string[] = [];
  const dropped: string[] = [];
  const ticker = new Ticker({
    schedules: [{ name: "s", clock: parseCron("*/2 * * * * *", "UTC") }],
    onTick: (_name, tick) => ticks.push(tick.toISOString()),
    lateLimitMs: LATE_LIMIT_MS,
    onDropped: (_name, oldest, newest) => dropped.push(`${oldest.toISOString()}..${newest.toISOString()}`),
  });
  return { ticker, ticks, dropped };
}

describe("schedule ticker", () => {
  it("reports each tick once, when the wall clock reaches it, and nothing after stop", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: T0 });
    const { ticker, ticks } = everyTwoSeconds();
    ticker.start();
    t.mock.timers.tick(1_499);
    assert.deepEqual(ticks, []);
    t.mock.timers.tick(1);
    assert.deepEqual(ticks, [at(2)]);
    for (let i = 0; i < 5; i += 1) t.mock.timers.tick(1_000);
    assert.deepEqual(ticks, [at(2), at(4), at(6)]);
    ticker.stop();
    t.mock.timers.tick(10_000);
    assert.deepEqual(ticks, [at(2), at(4), at(6)]);
  });

  it("after a late timer, hands out every missed tick within the late limit once, then goes on without drift", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: T0 });
    const { ticker, ticks, dropped } = everyTwoSeconds();
    ticker.start();
    // The event loop was blocked (or the clock jumped) for 5.7 s: the timer for 00:02 fires at 00:06.2.
    t.mock.timers.setTime(Date.parse(at(6.2)));
    t.mock.timers.tick(0);
    assert.deepEqual(ticks, [at(2), at(4), at(6)], "no tick lost when this replica is the only one");
    t.mock.timers.tick(1_800);
    assert.deepEqual(ticks, [at(2), at(4), at(6), at(8)]);
    assert.deepEqual(dropped, []);
    ticker.stop();
  });

  it("drops ticks older than the late limit after a long pause, and caps the missed ticks it hands out", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: T0 });
    const { ticker, ticks, dropped } = everyTwoSeconds();
    ticker.start();
    // A VM suspended for 10 minutes: the timer for 00:02 fires at 10:00.5, past SQS's 5-minute dedup window.
    t.mock.timers.setTime(Date.parse(at(600.5)));
    t.mock.timers.tick(0);
    const kept = Array.from({ length: MAX_MISSED_TICKS }, (_, i) => at(600 - 2 * (MAX_MISSED_TICKS - 1 - i)));
    assert.deepEqual(ticks, kept, "only the newest ticks, all within the late limit");
    assert.deepEqual(dropped, [`${at(2)}..${at(600 - 2 * MAX_MISSED_TICKS)}`]);
    t.mock.timers.tick(1_500);
    assert.deepEqual(ticks.slice(MAX_MISSED_TICKS), [at(602)]);
    ticker.stop();
  });

  it("fires at once a tick that fell between the start-up catch-up's look and start()", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.parse(at(2.3)) });
    const { ticker, ticks } = everyTwoSeconds();
    ticker.markHandedOut("s", new Date(at(0))); // the catch-up fired 00:00 after looking at 00:01.9
    ticker.start(Date.parse(at(1.9)));
    t.mock.timers.tick(0);
    assert.deepEqual(ticks, [at(2)]);
    ticker.stop();
  });

  it("never hands out a tick that the catch-up already fired", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: T0 });
    const { ticker, ticks } = everyTwoSeconds();
    ticker.markHandedOut("s", new Date(at(2)));
    ticker.start();
    t.mock.timers.tick(4_000);
    assert.deepEqual(ticks, [at(4)]);
    ticker.stop();
  });
});
