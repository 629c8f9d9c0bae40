import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DRAIN_FLUSH_LIMIT_MS } from "../../src/supervisor/supervisor.js";
import { checkStep, modelSequence, runSequence, worldSpec } from "../helpers/model-steps.js";
import { ModelWorld, type ModelStep, type ModelWorldSpec } from "../helpers/model-world.js";

/** Sequences per run: sized so the property ends well under a minute on a loaded two-core machine. */
const NUM_RUNS = Number(process.env["SQSD_MODEL_RUNS"] ?? 200);

/** A seed to print and replay: SQSD_MODEL_SEED=<seed> runs the same sequences again. */
function seedFor(name: string, numRuns: number): number {
  const seed = Number(process.env["SQSD_MODEL_SEED"] ?? Date.now() % 2 ** 31);
  console.log(`${name}: seed ${seed}, ${numRuns} sequences (replay with SQSD_MODEL_SEED=${seed})`);
  return seed;
}

/** The smallest daemon: one queue, one slot, short waits; the regression tests change what they need. */
const small: ModelWorldSpec = {
  queues: [{ fifo: false, weight: 1, concurrency: undefined }],
  maxInFlight: 1,
  prefetch: 2,
  maxBuffered: 2,
  visibilityTimeoutSeconds: 5,
  waitTimeSeconds: 1,
  idleBackoff: false,
  drainTimeoutMs: 1,
  restartLaterSeconds: 0,
  latencyMs: 0,
};

describe("the supervisor core, as a model", () => {
  it("keeps its invariants over random interleavings of sends, time, handler ends, pauses, faults and a drain", async () => {
    const seed = seedFor("core model", NUM_RUNS);
    await fc.assert(
      fc.asyncProperty(worldSpec, modelSequence, async (spec, steps) => {
        await runSequence(spec, steps);
      }),
      { seed, numRuns: NUM_RUNS },
    );
  });

  it("shares slots by weight under a backlog", async () => {
    const numRuns = Math.ceil(NUM_RUNS / 4);
    const seed = seedFor("core model, weights", numRuns);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
        async (weights, maxInFlight, picks) => {
          const world = new ModelWorld({
            ...small,
            queues: weights.map((weight) => ({ fifo: false, weight, concurrency: undefined })),
            maxInFlight,
            prefetch: 10,
            maxBuffered: 100,
            visibilityTimeoutSeconds: 30,
            waitTimeSeconds: 20,
          });
          try {
            await world.start();
            for (const queue of weights.keys()) await world.apply({ kind: "send", queue, groups: Array(60).fill(0) });
            const startedBefore = world.pool.runs.length;
            for (const pick of picks) {
              const runsBefore = world.pool.runs.length;
              await world.apply({ kind: "end", pick, ending: "ok" });
              checkStep(world, runsBefore);
            }
            // Loose: stride scheduling is exact within one message per queue; a backlog of 60 outlasts 40 starts.
            const runs = world.pool.runs.slice(startedBefore);
            const total = weights.reduce((sum, weight) => sum + weight, 0);
            for (const [index, weight] of weights.entries()) {
              const started = runs.filter((run) => run.queue === world.targets[index]!.fullName).length;
              const fair = (runs.length * weight) / total;
              assert.ok(
                Math.abs(started - fair) <= 2 + maxInFlight,
                `queue ${index} (weight ${weight} of ${total}) started ${started} of ${runs.length}`,
              );
            }
          } finally {
            world.dispose();
          }
        },
      ),
      { seed, numRuns },
    );
  });
});

/**
 * Counterexamples the property found, kept as plain tests. Each failed before the fix it names: the FIFO
 * give-back of a paused group (prefetch-queue.ts), one primary lane through a resume and an error backoff that
 * a success ends (poller.ts, poll-holds.ts), the outage gate under the drain's flush limit (acker.ts).
 */
describe("the supervisor core: counterexamples", () => {
  it("a FIFO failure while paused: the group's later messages waiting to go back do not run before it after the resume", async () => {
    const steps: ModelStep[] = [
      // m1 (g1) is received alone, then m2 and m3 (both g0) together: m1 and m2 run, m3 waits behind m2.
      { kind: "send", queue: 0, groups: [1, 0, 0] },
      // The pause moves m3 to the give-back list; a receive is waiting, so it is not released yet.
      { kind: "pause" },
      // m2 fails: its group's later messages must go back behind it.
      { kind: "end", pick: 1, ending: "throw" },
      { kind: "resume" },
    ];
    const world = new ModelWorld({
      ...small,
      queues: [{ fifo: true, weight: 1, concurrency: undefined }],
      maxInFlight: 2,
    });
    try {
      await world.start();
      for (const step of steps) await world.apply(step);
      const started = world.pool.runs.map((run) => run.messageIds.join("+"));
      assert.deepEqual(started, ["m1", "m2"], "m3 must not start before m2 has run again and succeeded");
    } finally {
      world.dispose();
    }
  });

  it("a resume while a receive waits keeps the buffer within maxBuffered plus one per queue", async () => {
    const world = new ModelWorld({ ...small, prefetch: 7, maxBuffered: 5 });
    try {
      await world.start();
      const steps: ModelStep[] = [
        { kind: "send", queue: 0, groups: [0, 0, 0, 0, 0, 0] },
        { kind: "end", pick: 0, ending: "ok" },
        { kind: "end", pick: 0, ending: "ok" },
        // Paused with a receive of 3 waiting; the resume adds a second primary receive beside it.
        { kind: "pause" },
        { kind: "end", pick: 0, ending: "ok" },
        { kind: "resume" },
        { kind: "end", pick: 0, ending: "ok" },
        { kind: "send", queue: 0, groups: [0, 0, 0, 0, 0, 0] },
      ];
      for (const step of steps) await world.apply(step);
      assert.ok(world.supervisor.health().buffered <= 5 + 1, `buffered ${world.supervisor.health().buffered}`);
    } finally {
      world.dispose();
    }
  });

  it("a backoff outlives the error that started it: after a resume, a lane sleeps on while the other's receive succeeded", async () => {
    const world = new ModelWorld(small);
    try {
      await world.start();
      const steps: ModelStep[] = [
        { kind: "fault", fault: { action: "receive", queue: 0, error: "unavailable" } },
        { kind: "pause" },
        // The new lane's receive meets the fault and backs off; the paused lane's receive still waits.
        { kind: "resume" },
        // The waiting receive takes m1 and succeeds; its lane ends, as it was paused.
        { kind: "send", queue: 0, groups: [0] },
      ];
      for (const step of steps) await world.apply(step);
      const health = world.supervisor.health();
      // The listening invariant: a poller that reports no error has a receive in flight.
      const errors = health.pollers[0]!.consecutiveErrors;
      const waiting = world.sqs.waitingOn(world.targets[0]!.url);
      assert.ok(errors > 0 || waiting === 1, `no error reported and ${waiting} receives in flight`);
    } finally {
      world.dispose();
    }
  });

  it("a backoff outlives the error without a resume: an extra lane's success resets the count the sleeping primary lane set", async () => {
    const world = new ModelWorld({ ...small, maxInFlight: 2, prefetch: 11 });
    try {
      await world.start();
      const steps: ModelStep[] = [
        // A full receive of m1 starts an extra lane; both lanes wait on SQS.
        { kind: "send", queue: 0, groups: [0, 0] },
        { kind: "fault", fault: { action: "outage", ms: 2_000 } },
        { kind: "end", pick: 0, ending: "ok" },
        // The primary lane takes m3, then its next receive fails: it sleeps its backoff.
        { kind: "send", queue: 0, groups: [0] },
        { kind: "end", pick: 0, ending: "ok" },
        // The extra lane's waiting receive takes m4 (the error count resets), then its next receive fails and
        // the extra lane ends.
        { kind: "send", queue: 0, groups: [0] },
      ];
      for (const step of steps) await world.apply(step);
      const errors = world.supervisor.health().pollers[0]!.consecutiveErrors;
      const waiting = world.sqs.waitingOn(world.targets[0]!.url);
      assert.ok(errors > 0 || waiting >= 1, `no error reported and ${waiting} receives in flight`);
    } finally {
      world.dispose();
    }
  });

  it("a drain during an outage ends within its bound, even for an entry that waited at the outage gate before the flush", async () => {
    const world = new ModelWorld({ ...small, visibilityTimeoutSeconds: 30 });
    try {
      await world.start();
      const steps: ModelStep[] = [
        { kind: "send", queue: 0, groups: [0, 0] },
        { kind: "end", pick: 0, ending: "ok" },
        // From here every call fails: m2's heartbeat retries wait at the acker's outage gate.
        { kind: "fault", fault: { action: "outage", ms: 3_600_000 } },
        { kind: "send", queue: 0, groups: [0] },
        { kind: "advance", ms: 16_159 },
      ];
      for (const step of steps) await world.apply(step);
      await world.finish();
      // Long polls return within the 1 s wait, then the flush gets DRAIN_FLUSH_LIMIT_MS; 250 ms is the
      // finishing loop's step. Before the gate took the acker's closing signal, this drain took 7.5 s.
      assert.ok(world.drainMs! <= 1_000 + DRAIN_FLUSH_LIMIT_MS + 250, `the drain took ${world.drainMs} ms`);
    } finally {
      world.dispose();
    }
  });
});
