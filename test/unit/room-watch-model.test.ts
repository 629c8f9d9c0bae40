import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { schedulerHarness, settle, type HeldPoller } from "../helpers/scheduler-harness.js";

/**
 * The scheduler's targeted wakes (RoomWatch), as a property: after any change (a receive, a counted or uncounted
 * finish, a pause or a resume), a poller held for want of room is woken once its room allows the receive it
 * needs, under any buffer ceiling and `--message-limit`. The core model test draws no message limit, so this
 * covers the budget's wakes. A version without RoomWatch's check fails it within a few hundred sequences.
 */
const QUEUES = ["a", "b", "c"] as const;
const NUM_RUNS = Number(process.env["SQSD_MODEL_RUNS"] ?? 200);

const limits = fc.record({
  maxInFlight: fc.integer({ min: 1, max: 3 }),
  prefetch: fc.integer({ min: 1, max: 4 }),
  maxBuffered: fc.integer({ min: 0, max: 5 }),
  messageLimit: fc.option(fc.integer({ min: 2, max: 9 }), { nil: undefined }),
});
const change = fc.oneof(
  fc.record({ kind: fc.constant("receive" as const), queue: fc.nat(2), messages: fc.nat(3) }),
  fc.record({ kind: fc.constant("finish" as const), counted: fc.boolean() }),
  fc.record({ kind: fc.constant("toggle-pause" as const) }),
);
type Change = typeof change extends fc.Arbitrary<infer T> ? T : never;

describe("the scheduler's wakes, as a model", () => {
  it("never leaves a held poller asleep once its room allows what it needs", async () => {
    await fc.assert(
      fc.asyncProperty(
        limits,
        fc.array(change, { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 200, maxLength: 200 }),
        async (options, changes, needs) => {
          const { scheduler, room, receive, finishNext, hold: holdFor, dispose } = schedulerHarness(QUEUES, options);
          const held: (HeldPoller | undefined)[] = QUEUES.map(() => undefined);
          let nextNeed = 0;
          let nextId = 0;
          // Each queue's primary lane asks for what it needs, and waits for a change when it cannot have it.
          const hold = (): void => {
            for (const queue of QUEUES.keys()) {
              if (held[queue] && !held[queue].woken) continue;
              const need = needs[nextNeed++ % needs.length]!;
              held[queue] = room(queue).receiveSize(need, true) >= need ? undefined : holdFor(queue, need);
            }
          };
          const apply = (step: Change): void => {
            if (step.kind === "receive") {
              const ids = Array.from({ length: step.messages }, () => `m${(nextId += 1)}`);
              receive(step.queue, ids, Math.max(1, step.messages));
            } else if (step.kind === "finish") {
              finishNext(step.counted);
            } else if (scheduler.stopped) scheduler.resume();
            else scheduler.pause();
          };
          try {
            hold();
            for (const step of changes) {
              apply(step);
              await settle();
              for (const queue of QUEUES.keys()) {
                const wait = held[queue];
                if (!wait || wait.woken) continue;
                const size = room(queue).receiveSize(wait.need, true);
                assert.ok(size < wait.need, `queue ${queue} held for ${wait.need} still asleep with room ${size}`);
              }
              hold();
            }
          } finally {
            dispose();
            await settle();
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
