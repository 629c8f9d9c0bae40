/**
 * Where the CPU goes while sqsd runs CPU-bound handlers (the cpu-bound scenario's sqsd run, alone): a backlog of
 * 5 ms busy-loop messages drained by sqsd with `threads` × `tasksPerThread`, and for the drain
 *
 * - CPU time of every thread of the sqsd process (/proc/PID/task/TID/stat), grouped by the thread's name:
 *   `MainThread` (the supervisor), `WorkerThread` (the pool threads and any other worker), `V8Worker` (GC and
 *   compilation helpers), `libuv-worker`;
 * - CPU time of the SQS server's process and of this bench process (its depth reads);
 * - the machine's idle time (/proc/stat), which says whether the cores were short or the threads waited;
 * - each pool thread's wall time per message split into the 5 ms of work and the rest (the hop between two
 *   runs on one thread).
 *
 *   npm run build && npx tsx bench/cpu-profile.ts [--threads 2] [--tasks 1] [--prefetch 20] [--messages 2000]
 *     [--cpu-prof DIR]    also write V8 CPU profiles of the daemon and its threads (--cpu-prof) to DIR
 */
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startSqsd } from "./consumers.js";
import { createQueues, drainTimed, fillQueue, processCpuMs, startServer } from "./lib.js";
import { spinRate } from "./scenarios/cpu-bound.js";

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: "2" },
    tasks: { type: "string", default: "1" },
    prefetch: { type: "string", default: "20" },
    messages: { type: "string", default: "2000" },
    "cpu-prof": { type: "string" },
  },
});
const threads = Number(values.threads);
const messages = Number(values.messages);
const SPIN_MS = 5;

const ticksPerMs = 100 / 1000; // CLK_TCK is 100 on Linux

/** CPU ms of each thread of a process, by thread id, with its name. */
function threadCpu(pid: number): Map<number, { name: string; ms: number }> {
  const threads = new Map<number, { name: string; ms: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      threads.set(Number(tid), { name, ms: (Number(fields[11]) + Number(fields[12])) / ticksPerMs });
    } catch {
      // The thread ended between the listing and the read: it has nothing more to count.
    }
  }
  return threads;
}

/** The machine's total and idle CPU time so far, in ticks of every core. */
function machineTicks(): { total: number; idle: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((sum, value) => sum + value, 0), idle: fields[3]! + fields[4]! };
}

const server = await startServer();
try {
  if (values["cpu-prof"] !== undefined) {
    // Only the daemon inherits this: the server is already running.
    process.env["NODE_OPTIONS"] = `--cpu-prof --cpu-prof-dir=${values["cpu-prof"]}`;
  }
  const [url] = await createQueues(server.client, ["profile"]);
  await fillQueue(server.client, url!, messages);
  // What as many bare threads do just before, as the cpu-bound scenario reads it.
  const bare = await spinRate(threads, 3_000);
  console.log(`bare threads (${threads}): ${bare.toFixed(0)} units/s`);
  const daemon = await startSqsd(server.endpoint, {
    queues: ["profile"],
    work: `spin:${SPIN_MS}`,
    config: {
      pool: { threads, tasksPerThread: Number(values.tasks), prefetch: Number(values.prefetch) },
    },
  });
  delete process.env["NODE_OPTIONS"];
  try {
    const before = { sqsd: threadCpu(daemon.pid), server: processCpuMs(server.pid), bench: processCpuMs(process.pid) };
    const machineBefore = machineTicks();
    const { processed, seconds } = await drainTimed(server.client, url!, messages, 120_000);
    const machineAfter = machineTicks();
    const after = { sqsd: threadCpu(daemon.pid), server: processCpuMs(server.pid), bench: processCpuMs(process.pid) };

    const byName = new Map<string, { ms: number; count: number }>();
    const perThread: string[] = [];
    for (const [tid, { name, ms }] of after.sqsd) {
      const used = ms - (before.sqsd.get(tid)?.ms ?? 0);
      const group = byName.get(name) ?? { ms: 0, count: 0 };
      byName.set(name, { ms: group.ms + used, count: group.count + 1 });
      if (name === "WorkerThread" || name === "MainThread") perThread.push(`${name} ${tid}: ${used.toFixed(0)} ms`);
    }
    const wallMs = seconds * 1000;
    const rate = processed / seconds;
    const share = (ms: number): string => `${((ms / wallMs) * 100).toFixed(1)}% of a core`;
    const idleShare = (machineAfter.idle - machineBefore.idle) / (machineAfter.total - machineBefore.total);
    const sqsdTotal = [...byName.values()].reduce((sum, group) => sum + group.ms, 0);
    console.log(
      `sqsd ${threads} threads × ${values.tasks} tasks, prefetch ${values.prefetch}: ${processed} messages in ` +
        `${seconds.toFixed(2)} s = ${rate.toFixed(0)} msg/s, ${(rate / (threads * (1000 / SPIN_MS))).toFixed(2)} of ` +
        `${threads} × ${1000 / SPIN_MS}/s`,
    );
    console.log(
      `sqsd process: ${sqsdTotal.toFixed(0)} ms CPU (${share(sqsdTotal)}), ${(sqsdTotal / processed).toFixed(2)} ms/msg`,
    );
    for (const [name, { ms, count }] of [...byName].sort(([, a], [, b]) => b.ms - a.ms)) {
      if (ms > 0)
        console.log(`  ${name} ×${count}: ${ms.toFixed(0)} ms (${share(ms)}), ${(ms / processed).toFixed(3)} ms/msg`);
    }
    console.log(`  ${perThread.join("; ")}`);
    const serverMs = after.server - before.server;
    const benchMs = after.bench - before.bench;
    console.log(
      `SQS server process: ${serverMs.toFixed(0)} ms (${share(serverMs)}), ${(serverMs / processed).toFixed(3)} ms/msg`,
    );
    console.log(`bench process (depth reads every 20 ms): ${benchMs.toFixed(0)} ms (${share(benchMs)})`);
    console.log(`machine idle during the drain: ${(idleShare * 100).toFixed(1)}% of all cores`);
    const perMessageWall = (threads * wallMs) / processed;
    console.log(
      `each pool thread: ${perMessageWall.toFixed(2)} ms of wall time per message = ${SPIN_MS} ms of work + ` +
        `${(perMessageWall - SPIN_MS).toFixed(2)} ms between runs`,
    );
  } finally {
    await daemon.stop();
  }
} finally {
  await server.stop();
}
