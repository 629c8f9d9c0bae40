import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

const MODULE = new URL("../../src/process/young-generation.js", import.meta.url).href;

/**
 * Allocates in a process of its own (V8's flags are the process's, and the test runner's heap is no
 * baseline) objects of which some survive a few scavenges, which is what makes V8 grow its new space, and
 * returns the largest new space seen between rounds, in MiB; with `capMib`, under capYoungGeneration.
 */
function largestNewSpace(capMib: number | undefined): number {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    const { capYoungGeneration } = await import(${JSON.stringify(MODULE)});
    const controller = new AbortController();
    if (${capMib ?? 0} > 0) capYoungGeneration(controller.signal, ${capMib ?? 0});
    const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === "new_space").space_size;
    const kept = [];
    let largest = 0;
    for (let round = 0; round < 2000; round += 1) {
      for (let i = 0; i < 1000; i += 1) {
        kept.push({ round, i, text: "x" + i });
        if (kept.length > 200000) kept.splice(0, 100000);
      }
      // Lets the gc observer's callbacks run, as a daemon's event loop does between requests.
      await new Promise((resolve) => setImmediate(resolve));
      largest = Math.max(largest, newSpace());
    }
    controller.abort();
    console.log(largest / 1024 / 1024);
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  return Number(child.stdout.trim());
}

describe("capYoungGeneration", () => {
  it("keeps the new space at its cap where V8 alone grows it past that", () => {
    // The same allocations without the cap: V8 doubles the new space to 64 MiB or more, so the check can fail.
    const uncapped = largestNewSpace(undefined);
    assert.ok(uncapped >= 32, `V8 grew the new space to ${uncapped} MiB only; the allocations prove nothing`);
    // Below the next doubling (8 MiB): a reading taken while a scavenge runs can be a page or so above 4.
    const capped = largestNewSpace(4);
    assert.ok(capped < 8, `the new space grew to ${capped} MiB`);
  });
});
