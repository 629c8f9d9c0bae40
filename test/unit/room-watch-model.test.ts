import assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import type { Acker } from "../../src/supervisor/acker.js";
import type { Delivery } from "../../src/supervisor/delivery.js";
import { Scheduler } from "../../src/supervisor/scheduler.js";
import type { PollTarget } from "../../src/supervisor/target.js";
import { VisibilityKeeper } from "../../src/supervisor/visibility-keeper.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/**
 * The scheduler's targeted wakes (RoomWatch), as a property: after any change (a receive, a counted or uncounted
 * finish, a pause or a resume), a poller held for want of room is woken once its room allows the receive it
 * needs, under any buffer ceiling and `--message-limit`. The core model test draws no message limit, so this
 * covers the budget's wakes. A version without RoomWatch's check fails it within a few hundred sequences.
 */
const QUEUES = ["a", "b", "c"] as const;
const NUM_RUNS = Number(process.env["SQSD_MODEL_RUNS"] ?? 200);

/** Lets the wakes' promise callbacks run: every wake resolves within the same turn of the event loop. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

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
          getRegistry().clear();
          const targets: PollTarget[] = QUEUES.map((name) => ({
            queue: receiver(name, {}, async () => {}).queue,
            suffix: undefined,
            fullName: name,
            url: `https://sqs/${name}`,
            visibilityTimeoutSeconds: 30,
          }));
          const running: Delivery[] = [];
          const acker = { changeVisibility: async () => true } as unknown as Acker;
          const scheduler = new Scheduler(targets, {
            ...options,
            keeper: new VisibilityKeeper(acker, memoryLogger().logger),
            start: (deliveries) => running.push(...deliveries),
            release: () => undefined,
          });
          const stop = new AbortController();
          const room = (queue: number) => scheduler.room(targets[queue]!);
          const held: ({ need: number; woken: boolean } | undefined)[] = QUEUES.map(() => undefined);
          let nextNeed = 0;
          let nextId = 0;
          // Each queue's primary lane asks for what it needs, and waits for a change when it cannot have it.
          const hold = (): void => {
            for (const queue of QUEUES.keys()) {
              if (held[queue] && !held[queue].woken) continue;
              const need = needs[nextNeed++ % needs.length]!;
              const generation = room(queue).generation;
              if (room(queue).receiveSize(need, true) >= need) {
                held[queue] = undefined;
                continue;
              }
              const wait = { need, woken: false };
              held[queue] = wait;
              void room(queue)
                .roomChanged(generation, need, true, stop.signal)
                .then(() => (wait.woken = true));
            }
          };
          const apply = (step: Change): void => {
            if (step.kind === "receive") {
              const ids = Array.from({ length: step.messages }, () => `m${(nextId += 1)}`);
              const size = Math.max(1, step.messages);
              room(step.queue).beginReceive(size, true);
              room(step.queue).endReceive(
                size,
                true,
                ids.map((id): Message => ({ MessageId: id, ReceiptHandle: `r-${id}`, Body: id, Attributes: {} })),
              );
            } else if (step.kind === "finish") {
              running.shift()?.finish({ counted: step.counted, succeeded: step.counted });
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
            stop.abort();
            if (scheduler.stopped) scheduler.resume();
            scheduler.beginDrain();
            scheduler.releaseAll();
            while (running.length > 0) running.shift()?.finish({ counted: true, succeeded: true });
            await settle();
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
