/**
 * Piscina's entry for every pool thread. Piscina awaits the default export, so the receiver modules are loaded
 * (and checked) once, when the thread starts, before its first task.
 */
import { workerData } from "node:worker_threads";
import type { PoolWorkerData } from "../src/pool/protocol.js";
import { startThread } from "./task-runner.js";

export default startThread(workerData as PoolWorkerData);
