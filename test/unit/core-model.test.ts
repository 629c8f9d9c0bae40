import { describe, it } from "node:test";
import fc from "fast-check";
import { modelSequence, runSequence, worldSpec } from "../helpers/model-steps.js";

/** Sequences per run: sized so the property ends well under a minute on a loaded two-core machine. */
const NUM_RUNS = Number(process.env["SQSD_MODEL_RUNS"] ?? 200);

describe("the supervisor core, as a model", () => {
  it("keeps its invariants over random interleavings of sends, time, handler ends, pauses, faults and a drain", async () => {
    const seed = Number(process.env["SQSD_MODEL_SEED"] ?? Date.now() % 2 ** 31);
    // Printed first, so a failure on CI can be replayed: SQSD_MODEL_SEED=<seed> (fast-check also prints the path).
    console.log(`core model: seed ${seed}, ${NUM_RUNS} sequences`);
    await fc.assert(
      fc.asyncProperty(worldSpec, modelSequence, async (spec, steps) => {
        await runSequence(spec, steps);
      }),
      { seed, numRuns: NUM_RUNS },
    );
  });
});
