import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { compactHeap } from "../../src/process/compact-heap.js";

test("a compaction collects and reports its pause and sizes", () => {
  const compaction = compactHeap();
  assert.equal(compaction.collected, true);
  assert.ok(compaction.durationMs >= 0);
  assert.equal(compaction.heapTotalMb.length, 2);
  assert.equal(compaction.rssMb.length, 2);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined", "no global gc is left behind");
});

// V8's --expose-gc flag is the process's: threads that compact at once set and unset it under each other.
// None may throw (in a pool thread's timer that would end the thread), however they interleave.
test("threads compacting at the same moment never throw", async () => {
  const url = new URL("../../src/process/compact-heap.js", import.meta.url).href;
  const source = `
    const { parentPort } = require("node:worker_threads");
    import(${JSON.stringify(url)}).then(({ compactHeap }) => {
      let failures = 0;
      for (let i = 0; i < 30; i += 1) {
        try { compactHeap(); } catch { failures += 1; }
      }
      parentPort.postMessage(failures);
    }, (error) => parentPort.postMessage(String(error)));
  `;
  const runs = Array.from({ length: 4 }, () => {
    const worker = new Worker(source, { eval: true });
    return new Promise<unknown>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    }).finally(() => worker.terminate());
  });
  for (let i = 0; i < 30; i += 1) compactHeap();
  assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
});
