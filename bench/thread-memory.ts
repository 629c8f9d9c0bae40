/**
 * What a pool thread costs in memory: starts the daemon on the quick start's receivers (handlers that never
 * send) with 1 thread and with N threads, reads the process's RSS from /proc once every thread is ready and
 * the daemon has settled, and prints both and the cost per extra thread. The SQS server runs in its own
 * process, so its memory is not counted.
 *
 *   npm run bench:threads -- [--threads 4] [--runs 3] [--settle-seconds 3]
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { spawnSqsd, startServerProcess } from "./lib.js";

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

const server = await startServerProcess();
const dir = mkdtempSync(join(tmpdir(), "sqsd-thread-memory-"));

/** The daemon's RSS in MiB, `settleMs` after it reported that it started. */
async function daemonRssMiB(threadCount: number): Promise<number> {
  const configPath = join(dir, `sqs.config.${threadCount}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({
      endpoint: server.endpoint,
      createQueues: true,
      receivers: [receivers],
      pool: { threads: threadCount, tasksPerThread: 4 },
      defaults: { waitTimeSeconds: 1 },
      log: { level: "info", format: "json" },
    }),
  );
  const daemon = spawnSqsd(configPath);
  const exited = new Promise((resolve) => daemon.on("exit", resolve));
  await new Promise<void>((resolve) =>
    createInterface({ input: daemon.stdout }).on("line", (line) => {
      if (line.includes('"sqsd started"')) resolve();
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, "utf8"))?.[1] ?? 0);
  daemon.kill("SIGTERM");
  await exited;
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
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
