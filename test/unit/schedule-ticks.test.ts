import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatInZone, parseCron } from "../../src/util/cron.js";

const iso = (dates: readonly Date[]): string[] => dates.map((date) => date.toISOString());

describe("schedule ticks", () => {
  it("keeps a fixed-time schedule once a day across Berlin's spring-forward: the skipped 02:30 runs at 03:00", () => {
    // 2026-03-29 in Europe/Berlin: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that night.
    const clock = parseCron("30 2 * * *", "Europe/Berlin");
    const ticks = clock.next(3, new Date("2026-03-27T12:00:00Z"));
    assert.deepEqual(iso(ticks), [
      "2026-03-28T01:30:00.000Z", // 02:30 CET (+01:00)
      "2026-03-29T01:00:00.000Z", // 03:00 CEST: the end of the skipped hour, once
      "2026-03-30T00:30:00.000Z", // 02:30 CEST (+02:00)
    ]);
    assert.deepEqual(
      ticks.map((tick) => formatInZone(tick, "Europe/Berlin")),
      ["2026-03-28 02:30:00 +01:00", "2026-03-29 03:00:00 +02:00", "2026-03-30 02:30:00 +02:00"],
    );
  });

  it("fires a fixed-time schedule once in the hour Berlin's fall-back repeats", () => {
    // 2026-10-25: 03:00 CEST goes back to 02:00 CET, so 02:30 happens twice; a daily job runs once.
    const ticks = parseCron("30 2 * * *", "Europe/Berlin").next(3, new Date("2026-10-23T12:00:00Z"));
    assert.deepEqual(iso(ticks), [
      "2026-10-24T00:30:00.000Z",
      "2026-10-25T00:30:00.000Z", // the first 02:30 (CEST), not the second
      "2026-10-26T01:30:00.000Z", // 02:30 CET (+01:00)
    ]);
  });

  it("treats hour lists and ranges as fixed-time, as Vixie cron does, across both Berlin DST changes", () => {
    // Vixie cron calls a job "wild" only when its minute or hour field starts with "*": a list or a range is
    // fixed-time, so its skipped 02:30 runs at 03:00 and its repeated 02:30 runs once.
    const list = parseCron("30 2,14 * * *", "Europe/Berlin");
    assert.deepEqual(iso(list.next(3, new Date("2026-03-28T20:00:00Z"))), [
      "2026-03-29T01:00:00.000Z", // 03:00 CEST: the skipped 02:30, once
      "2026-03-29T12:30:00.000Z", // 14:30 CEST
      "2026-03-30T00:30:00.000Z",
    ]);
    assert.deepEqual(iso(list.next(3, new Date("2026-10-24T20:00:00Z"))), [
      "2026-10-25T00:30:00.000Z", // the first 02:30 (CEST) only
      "2026-10-25T13:30:00.000Z", // 14:30 CET
      "2026-10-26T01:30:00.000Z",
    ]);
    const range = parseCron("30 1-2 * * *", "Europe/Berlin");
    assert.deepEqual(iso(range.next(3, new Date("2026-10-24T20:00:00Z"))), [
      "2026-10-24T23:30:00.000Z", // 01:30 CEST
      "2026-10-25T00:30:00.000Z", // 02:30 CEST, not again at 02:30 CET
      "2026-10-26T00:30:00.000Z", // 01:30 CET the next day
    ]);
  });

  it("keeps an interval schedule's real-time spacing through both DST changes", () => {
    const fallBack = parseCron("*/30 * * * *", "Europe/Berlin").next(5, new Date("2026-10-25T00:10:00Z"));
    assert.deepEqual(iso(fallBack), [
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T01:00:00.000Z", // 02:00 CET: the repeated hour runs again
      "2026-10-25T01:30:00.000Z",
      "2026-10-25T02:00:00.000Z",
      "2026-10-25T02:30:00.000Z",
    ]);
    const hourly = parseCron("0 * * * *", "Europe/Berlin").next(3, new Date("2026-03-29T00:10:00Z"));
    // 01:00 CET, then 03:00 CEST: 02:00 does not exist, and nothing fires twice.
    assert.deepEqual(iso(hourly), ["2026-03-29T01:00:00.000Z", "2026-03-29T02:00:00.000Z", "2026-03-29T03:00:00.000Z"]);
  });

  it("runs an every-minute schedule over a month boundary without a gap or a repeat", () => {
    const clock = parseCron("* * * * *", "UTC");
    const ticks = clock.next(4, new Date("2026-01-31T23:57:30Z"));
    assert.deepEqual(iso(ticks), [
      "2026-01-31T23:58:00.000Z",
      "2026-01-31T23:59:00.000Z",
      "2026-02-01T00:00:00.000Z",
      "2026-02-01T00:01:00.000Z",
    ]);
    // Through a month's whole length: one tick a minute, 28 days of February 2026.
    let count = 0;
    let tick = clock.nextAfter(new Date("2026-01-31T23:59:59Z"));
    while (tick && tick < new Date("2026-03-01T00:00:00Z")) {
      count += 1;
      tick = clock.nextAfter(tick);
    }
    assert.equal(count, 28 * 24 * 60);
  });

  it("reads a 6-field expression with seconds first", () => {
    const clock = parseCron("*/2 * * * * *", "UTC");
    assert.deepEqual(iso(clock.next(3, new Date("2026-01-01T00:00:00.500Z"))), [
      "2026-01-01T00:00:02.000Z",
      "2026-01-01T00:00:04.000Z",
      "2026-01-01T00:00:06.000Z",
    ]);
    // The tick at an exact second is not "after" it, and is the latest at or before it.
    assert.equal(clock.nextAfter(new Date("2026-01-01T00:00:02.000Z"))?.toISOString(), "2026-01-01T00:00:04.000Z");
    assert.equal(
      clock.latestAtOrBefore(new Date("2026-01-01T00:00:02.000Z"))?.toISOString(),
      "2026-01-01T00:00:02.000Z",
    );
    assert.equal(
      clock.latestAtOrBefore(new Date("2026-01-01T00:00:03.999Z"))?.toISOString(),
      "2026-01-01T00:00:02.000Z",
    );
  });

  it("computes the latest tick at or before a time in the schedule's zone (catchUp)", () => {
    const clock = parseCron("0 3 * * *", "Europe/Berlin");
    assert.equal(clock.latestAtOrBefore(new Date("2026-07-01T12:00:00Z"))?.toISOString(), "2026-07-01T01:00:00.000Z");
    assert.equal(clock.latestAtOrBefore(new Date("2026-07-01T00:59:59Z"))?.toISOString(), "2026-06-30T01:00:00.000Z");
  });
});
