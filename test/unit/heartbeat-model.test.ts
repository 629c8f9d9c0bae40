import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SQS_LIMITS } from "../../src/limits.js";
import type { AckTarget } from "../../src/supervisor/acker.js";
import { VisibilityKeeper, type KeptVisibility } from "../../src/supervisor/visibility-keeper.js";
import { FakeClock, settle } from "../helpers/fake-clock.js";
import { memoryLogger } from "../helpers/memory-logger.js";

const ack: AckTarget = { queueUrl: "https://sqs/q", messageId: "m-1", receiptHandle: "r-1" };

interface Change {
  readonly seconds: number;
  readonly at: number;
  readonly origin: "beat" | "extend";
  readonly reply: (ok: boolean) => void;
  answered: boolean;
}

/**
 * One heartbeat on a fake clock with an acker whose answers the test gives, in any order: the model the
 * property test and the regression tests below drive.
 */
function harness(visibilityTimeoutSeconds: number, receivedAgoSeconds = 0) {
  const clock = new FakeClock();
  const changes: Change[] = [];
  let origin: Change["origin"] = "beat";
  const acker = {
    changeVisibility: (_target: AckTarget, seconds: number) =>
      new Promise<boolean>((resolve) => {
        const change: Change = {
          seconds,
          at: clock.now(),
          origin,
          answered: false,
          reply: (ok) => {
            change.answered = true;
            resolve(ok);
          },
        };
        changes.push(change);
      }),
  };
  let lost = 0;
  const receivedAt = clock.now() - receivedAgoSeconds * 1000;
  const keeper = new VisibilityKeeper(acker, memoryLogger().logger, clock);
  const kept: KeptVisibility = keeper.keep(
    ack,
    receivedAt,
    visibilityTimeoutSeconds,
    () => ({}),
    () => (lost += 1),
  );
  return {
    clock,
    changes,
    kept,
    receivedAt,
    lost: () => lost,
    pending: () => changes.filter((change) => !change.answered),
    /** A handler's extend(), as a thread would call it: not awaited. */
    extend(seconds: number): void {
      origin = "extend";
      void kept.extend(seconds);
      origin = "beat";
    },
  };
}

type Step =
  | { readonly kind: "advance"; readonly ms: number }
  | { readonly kind: "reply"; readonly pick: number; readonly ok: boolean }
  | { readonly kind: "extend"; readonly seconds: number }
  | { readonly kind: "stop" };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.nat({ max: 400_000 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("reply" as const),
      pick: fc.nat(),
      ok: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("extend" as const), seconds: fc.integer({ min: 1, max: 43_200 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "stop" as const }) },
);

describe("the visibility heartbeat, as a model", () => {
  it("keeps one timer, a deadline that only moves forward, and never goes silent, over random interleavings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 30, 600, 43_200),
        fc.oneof(fc.constant(0), fc.integer({ min: 0, max: SQS_LIMITS.maxVisibilityTimeoutSeconds })),
        fc.array(step, { maxLength: 40 }),
        async (timeoutSeconds, receivedAgo, steps) => {
          const model = harness(timeoutSeconds, receivedAgo);
          const ceiling = model.receivedAt + SQS_LIMITS.maxVisibilityTimeoutSeconds * 1000;
          let stopped = false;
          let lastDeadline = model.kept.deadline;
          for (const next of steps) {
            const callsBefore = model.changes.length;
            if (next.kind === "advance") await model.clock.advance(next.ms);
            else if (next.kind === "reply") {
              const pending = model.pending();
              if (pending.length > 0) pending[next.pick % pending.length]!.reply(next.ok);
              await settle();
            } else if (next.kind === "extend") {
              model.extend(next.seconds);
              await settle();
            } else {
              model.kept.stop();
              stopped = true;
            }
            // One timer at most: the next beat, or the moment a message at the ceiling reappears.
            assert.ok(model.clock.live <= 1, `${model.clock.live} timers`);
            // One change under way at a time: SQS may apply two sent together in either order.
            assert.ok(model.pending().length <= 1, "two changes under way");
            assert.ok(model.kept.deadline >= lastDeadline, "the deadline moved back");
            lastDeadline = model.kept.deadline;
            assert.ok(model.lost() <= 1, "lost twice");
            for (const change of model.changes.slice(callsBefore)) {
              assert.ok(change.seconds >= 1 && change.at + change.seconds * 1000 <= ceiling, "past 12 hours");
            }
            if (stopped) {
              assert.equal(model.clock.live, 0, "a timer outlived stop()");
              if (next.kind !== "stop") assert.equal(model.changes.length, callsBefore, "a request after stop()");
            } else if (model.lost() === 0) {
              // Never silent: a timer is set, or an answer is awaited that will set one.
              assert.ok(model.clock.live === 1 || model.pending().length > 0, "the heartbeat went silent");
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("extend() while a beat waits on the acker leaves one chain", async () => {
    const model = harness(30);
    await model.clock.advance(15_000); // the first beat, at half the timeout
    assert.equal(model.changes.length, 1);
    model.extend(60);
    await settle();
    assert.equal(model.changes.length, 1, "the extension waits for the beat's answer");
    model.changes[0]!.reply(true);
    await settle();
    assert.equal(model.changes.length, 2);
    assert.equal(model.changes[1]!.seconds, 60);
    model.changes[1]!.reply(true);
    await settle();
    assert.equal(model.clock.live, 1);
    // One beat per half of the 60 s now kept ahead, not two chains.
    await model.clock.advance(30_000);
    assert.equal(model.changes.length, 3);
    assert.equal(model.changes[2]!.seconds, 60);
  });

  it("a longer extension asked while a short beat waits lands last, and the deadline only grows", async () => {
    const model = harness(30);
    await model.clock.advance(15_000);
    model.extend(600);
    await settle();
    model.changes[0]!.reply(true);
    await settle();
    const afterBeat = model.kept.deadline;
    model.changes[1]!.reply(true);
    await settle();
    assert.ok(model.kept.deadline >= afterBeat);
    assert.equal(model.kept.deadline, model.clock.now() + 600_000);
  });

  it("extend() for less than is left sends nothing, so it cannot shorten the visibility", async () => {
    const model = harness(600);
    const deadline = model.kept.deadline;
    assert.equal(await model.kept.extend(10), true);
    assert.equal(model.changes.length, 0);
    assert.equal(model.kept.deadline, deadline);
  });

  it("a beat that reaches the ceiling while extend() waits leaves one timer, which stop() clears", async () => {
    // Received 11 h 59 m 20 s ago with 20 s of visibility left: the first beat, 10 s on, can only be granted
    // the last 30 s of the 12 hours.
    const model = harness(SQS_LIMITS.maxVisibilityTimeoutSeconds - 20, SQS_LIMITS.maxVisibilityTimeoutSeconds - 40);
    await model.clock.advance(10_000);
    assert.equal(model.changes[0]!.seconds, 30);
    model.extend(SQS_LIMITS.maxVisibilityTimeoutSeconds - 20);
    await settle();
    model.changes[0]!.reply(true);
    await settle();
    model.changes[1]!.reply(true);
    await settle();
    assert.equal(model.clock.live, 1);
    model.kept.stop();
    assert.equal(model.clock.live, 0);
    await model.clock.advance(60_000);
    assert.equal(model.lost(), 0);
  });
});
