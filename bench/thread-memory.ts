/**
 * What a pool thread costs in memory: starts the daemon on the quick start's receivers (handlers that never
 * send) with 1 thread and with N threads, reads the process's RSS from /proc once every thread is ready and
 * the daemon has settled, and prints both and the cost per extra thread. The SQS server runs in its own
 * process, so its memory is not counted.
 *
 *   npm run bench:threads -- [--threads 4] [--runs 3] [--settle-seconds 3]
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startSqsd } from "./consumers.js";
import { startServer } from "./lib.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: "4" },
    runs: { type: "string", default: "3" },
    "settle-seconds": { type: "string", default: "3" },
  },
});
const threads = Number(values.threads);
const runs = Number(values.runs);
const settleMs = Number(values["settle-seconds"]) * 1000;
const receivers = fileURLToPath(new URL("../examples/quickstart/receivers.ts", import.meta.url));

// The AWS SDK's notice that it will need Node 22 would interleave with the results.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
const server = await startServer();

/** The daemon's RSS in MiB, `settleMs` after it reported that it started. */
async function daemonRssMiB(threadCount: number): Promise<number> {
  const daemon = await startSqsd(server.endpoint, {
    queues: [],
    work: "noop",
    receivers: [receivers],
    config: {
      createQueues: true,
      pool: { threads: threadCount, tasksPerThread: 4 },
      defaults: { waitTimeSeconds: 1 },
    },
  });
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, "utf8"))?.[1] ?? 0);
  await daemon.stop();
  return rssKb / 1024;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
try {
  const one: number[] = [];
  const many: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    one.push(await daemonRssMiB(1));
    many.push(await daemonRssMiB(threads));
  }
  const format = (list: number[]): string => list.map((value) => value.toFixed(1)).join(", ");
  console.log(`RSS with 1 thread (MiB): ${format(one)}; median ${median(one).toFixed(1)}`);
  console.log(`RSS with ${threads} threads (MiB): ${format(many)}; median ${median(many).toFixed(1)}`);
  console.log(`per extra thread (MiB): ${((median(many) - median(one)) / (threads - 1)).toFixed(1)}`);
} finally {
  await server.stop();
}
