import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Acker, AckTarget } from "../../src/supervisor/acker.js";
import { VisibilityKeeper } from "../../src/supervisor/visibility-keeper.js";
import { eventually } from "../helpers/eventually.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/** The heartbeat's schedule and ceiling, with a stand-in acker that records what it was asked. */
describe("VisibilityKeeper", () => {
  const ack: AckTarget = { queueUrl: "https://sqs/q", messageId: "m-1", receiptHandle: "r-1" };
  function recordingAcker() {
    const changes: { seconds: number; at: number }[] = [];
    const acker = {
      changeVisibility: async (_target: AckTarget, seconds: number) => (
        changes.push({ seconds, at: Date.now() }),
        true
      ),
    } as unknown as Acker;
    return { acker, changes };
  }

  it("extends by the visibility timeout at half of it, again and again, and stops when told", async () => {
    const { acker, changes } = recordingAcker();
    const keeper = new VisibilityKeeper(acker, memoryLogger().logger);
    const started = Date.now();
    const kept = keeper.keep(ack, started, 1, () => ({}));
    await eventually(() => changes.length >= 3, { timeoutMs: 5_000 });
    kept.stop();
    const count = changes.length;
    assert.ok(changes.every((change) => change.seconds === 1));
    // The first came about half a timeout in, not at once.
    assert.ok(changes[0]!.at - started >= 400);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.equal(changes.length, count, "no extension after stop()");
  });

  it("never extends past 12 hours from receipt", async () => {
    const { acker, changes } = recordingAcker();
    const { logger, records } = memoryLogger();
    const keeper = new VisibilityKeeper(acker, logger);
    // Received 11 h 59 m 58 s ago: at most 2 s of the 12 hours are left, so 600 s cannot be granted.
    const nearlyOut = keeper.keep(ack, Date.now() - (43_200 - 2) * 1000, 60, () => ({}));
    assert.equal(await nearlyOut.extend(600), false);
    assert.equal(changes.length, 1);
    assert.ok(changes[0]!.seconds >= 1 && changes[0]!.seconds <= 2, `asked for ${changes[0]!.seconds} s`);
    nearlyOut.stop();
    // Received 12 hours ago: nothing is left; no request, and a warning says why.
    const out = keeper.keep(ack, Date.now() - 43_200 * 1000, 60, () => ({}));
    assert.equal(await out.extend(600), false);
    assert.equal(changes.length, 1);
    assert.ok(records.some((record) => /12-hour ceiling/.test(record.message)));
    out.stop();
  });
});
