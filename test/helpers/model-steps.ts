import fc from "fast-check";
import {
  checkAfterDrain,
  checkBounds,
  checkFifoOrder,
  checkListening,
  checkLogs,
  checkNoDoubleRun,
} from "./model-checks.js";
import type { ModelStep, ModelWorldSpec } from "./model-world.js";
import { ModelWorld } from "./model-world.js";

/** A daemon's configuration, drawn small enough for the interesting limits to be met in a few steps. */
export const worldSpec: fc.Arbitrary<ModelWorldSpec> = fc.record({
  queues: fc.array(
    fc.record({
      fifo: fc.boolean(),
      weight: fc.integer({ min: 1, max: 3 }),
      concurrency: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  maxInFlight: fc.integer({ min: 1, max: 4 }),
  prefetch: fc.integer({ min: 1, max: 12 }),
  maxBuffered: fc.constantFrom(2, 5, 100),
  visibilityTimeoutSeconds: fc.constantFrom(5, 30),
  waitTimeSeconds: fc.constantFrom(1, 20),
  idleBackoff: fc.boolean(),
  drainTimeoutMs: fc.constantFrom(1, 600_000),
  restartLaterSeconds: fc.constantFrom(0, 2),
  latencyMs: fc.constantFrom(0, 0, 3, 40),
});

const queue = fc.nat({ max: 2 });

/** One step, weighted towards the ones that move messages. */
export const modelStep: fc.Arbitrary<ModelStep> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant("send" as const),
      queue,
      groups: fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 10 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("short" as const), queue, count: fc.nat({ max: 3 }) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 200, max: 40_000 })),
    }),
  },
  {
    weight: 16,
    arbitrary: fc.record({
      kind: fc.constant("end" as const),
      pick: fc.nat(),
      ending: fc.oneof(
        {
          weight: 10,
          arbitrary: fc.constantFrom("ok" as const, "ok" as const, "throw" as const, "restartLater" as const),
        },
        { weight: 1, arbitrary: fc.constant("crash" as const) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("hang" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: "pause" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "resume" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pauseQueue" as const), queue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("resumeQueue" as const), queue }) },
  { weight: 1, arbitrary: fc.constant({ kind: "wake" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fault" as const),
      fault: fc.oneof(
        fc.record({
          action: fc.constant("receive" as const),
          queue,
          error: fc.constantFrom("unavailable" as const, "throttle" as const, "network" as const),
        }),
        fc.record({
          action: fc.constant("ack" as const),
          error: fc.constantFrom("unavailable" as const, "network" as const, "entry" as const, "invalidEntry" as const),
        }),
        fc.record({ action: fc.constant("outage" as const), ms: fc.constantFrom(2_000, 30_000, 3_600_000) }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "drain" as const }) },
);

/** A sequence of steps: up to 50, lengths spread evenly (fast-check's default size keeps arrays to about 10). */
export const modelSequence: fc.Arbitrary<ModelStep[]> = fc.array(modelStep, { maxLength: 50, size: "max" });

/** The invariants that hold after every step. */
export function checkStep(world: ModelWorld, runsBefore: number): void {
  checkBounds(world);
  checkListening(world);
  checkNoDoubleRun(world);
  checkFifoOrder(world, runsBefore);
}

/**
 * Runs one sequence: start, every step followed by the step invariants, then a drain (if no step drained)
 * and the after-drain invariants. Always puts the real timers back.
 */
export async function runSequence(spec: ModelWorldSpec, steps: readonly ModelStep[]): Promise<ModelWorld> {
  const world = new ModelWorld(spec);
  try {
    await world.start();
    checkStep(world, 0);
    for (const step of steps) {
      const runsBefore = world.pool.runs.length;
      await world.apply(step);
      checkStep(world, runsBefore);
    }
    const runsBefore = world.pool.runs.length;
    await world.finish();
    checkFifoOrder(world, runsBefore);
    checkBounds(world);
    await checkAfterDrain(world);
    checkLogs(world);
    return world;
  } finally {
    world.dispose();
  }
}
