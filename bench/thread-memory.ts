/**
 * What the supervisor and each pool thread cost in memory: starts the daemon on the quick start's receivers
 * (handlers that never send) with 1 thread and with N threads (all started: `minThreads` = `threads`), reads
 * the process's RSS (and its anonymous part, which leaves out the mapped Node binary and libraries) from /proc
 * once every thread is ready and the daemon has settled, and prints both, the cost per extra thread, and the
 * supervisor's own share (RSS with 1 thread less one thread's cost: a daemon always runs at least one). The
 * SQS server runs in its own process, so its memory is not counted.
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

interface Rss {
  readonly total: number;
  readonly anon: number;
}

/** The daemon's RSS in MiB, `settleMs` after it reported that it started. */
async function daemonRssMiB(threadCount: number): Promise<Rss> {
  const daemon = await startSqsd(server.endpoint, {
    queues: [],
    work: "noop",
    receivers: [receivers],
    config: {
      createQueues: true,
      pool: { threads: threadCount, minThreads: threadCount, tasksPerThread: 4 },
      defaults: { waitTimeSeconds: 1 },
    },
  });
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const status = readFileSync(`/proc/${daemon.pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  await daemon.stop();
  return { total: kb("VmRSS") / 1024, anon: kb("RssAnon") / 1024 };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
try {
  const one: Rss[] = [];
  const many: Rss[] = [];
  for (let run = 0; run < runs; run += 1) {
    one.push(await daemonRssMiB(1));
    many.push(await daemonRssMiB(threads));
  }
  for (const part of ["total", "anon"] as const) {
    const [ones, manys] = [one.map((rss) => rss[part]), many.map((rss) => rss[part])];
    const format = (list: number[]): string => list.map((value) => value.toFixed(1)).join(", ");
    const perThread = (median(manys) - median(ones)) / (threads - 1);
    const label = part === "total" ? "RSS" : "RSS, anonymous part";
    console.log(`${label} with 1 thread (MiB): ${format(ones)}; median ${median(ones).toFixed(1)}`);
    console.log(`${label} with ${threads} threads (MiB): ${format(manys)}; median ${median(manys).toFixed(1)}`);
    console.log(
      `${label}: per thread ${perThread.toFixed(1)} MiB, supervisor ${(median(ones) - perThread).toFixed(1)} MiB`,
    );
  }
} finally {
  await server.stop();
}
