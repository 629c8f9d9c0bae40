/**
 * Piscina's entry for every pool thread. Piscina awaits the default export, so the receiver modules are loaded
 * (and checked) once, when the thread starts, before its first task. Once idle, the thread gives back the
 * memory its heap grew (workers/idle-heap.ts), where the supervisor's young generation is capped on its own
 * isolate: under the process-wide fallback a compacted thread could not grow its young generation again.
 */
import { workerData } from "node:worker_threads";
import type { PoolWorkerData } from "../src/pool/protocol.js";
import { youngGenerationSizedAtStart } from "../src/process/young-generation.js";
import { compactWhenIdle } from "./idle-heap.js";
import { startThread } from "./task-runner.js";

export default startThread(workerData as PoolWorkerData).then((run) =>
  youngGenerationSizedAtStart() ? compactWhenIdle(run) : run,
);
