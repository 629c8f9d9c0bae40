/**
 * Where an idle sqsd spends its CPU with many empty queues (the many-queues scenario's idle window, alone):
 * N empty queues consumed by one sqsd with its default pool; after a settle, a window in which the daemon's
 * CPU time (every thread, /proc) and the receives the server saw give CPU per long-poll receive. With
 * `--cpu-prof DIR`, the daemon also writes V8 CPU profiles (main thread and pool threads) to DIR, and the main
 * thread's samples inside the window are summed by function (self time), per receive.
 *
 *   npm run build && npx tsx bench/idle-profile.ts [--queues 1000] [--window 30] [--cpu-prof DIR] [--top 40]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startSqsd } from "./consumers.js";
import { createQueues, processCpuMs, sleep, startServer } from "./lib.js";

/** CPU ms so far of each thread of a process, summed by the thread's name (MainThread, WorkerThread, ...). */
function cpuByThreadName(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      byName.set(name, (byName.get(name) ?? 0) + processCpuMs(pid, Number(tid)));
    } catch {
      // The thread ended between the listing and the read: it has nothing more to count.
    }
  }
  return byName;
}

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";

const { values } = parseArgs({
  options: {
    queues: { type: "string", default: "1000" },
    window: { type: "string", default: "40" },
    settle: { type: "string", default: "5" },
    top: { type: "string", default: "40" },
    "cpu-prof": { type: "string" },
    "node-options": { type: "string" },
  },
});
const queues = Number(values.queues);
const windowMs = Number(values.window) * 1000;
const profileDir = values["cpu-prof"];

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** A profile's functions by self and by inclusive time, over the samples between `fromMs` and `toMs`. */
interface Times {
  readonly total: number;
  readonly self: [string, number][];
  readonly inclusive: [string, number][];
}

/**
 * Self and inclusive time by function of the samples between `fromMs` and `toMs` of the monotonic clock (V8
 * stamps profiles with CLOCK_MONOTONIC, as process.hrtime reads it); idle samples left out.
 */
function times(profile: CpuProfile, fromMs: number, toMs: number): Times {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node: ProfileNode): string => {
    const { functionName, url, lineNumber } = node.callFrame;
    const short = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/(src|dist)\//, "$1/");
    return `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let at = profile.startTime / 1000;
  let total = 0;
  for (let index = 0; index < profile.samples.length; index += 1) {
    const delta = profile.timeDeltas[index]! / 1000;
    at += delta;
    if (at < fromMs || at > toMs) continue;
    const node = byId.get(profile.samples[index]!)!;
    if (node.callFrame.functionName === "(idle)") continue;
    total += delta;
    self.set(label(node), (self.get(label(node)) ?? 0) + delta);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const key = label(byId.get(id)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
    }
  }
  const sorted = (map: Map<string, number>): [string, number][] => [...map].sort(([, a], [, b]) => b - a);
  return { total, self: sorted(self), inclusive: sorted(inclusive) };
}

const server = await startServer();
try {
  const names = Array.from({ length: queues }, (_, index) => `idle-${String(index).padStart(4, "0")}`);
  await createQueues(server.client, names);
  const nodeOptions = [
    ...(profileDir === undefined ? [] : [`--cpu-prof --cpu-prof-dir=${profileDir}`]),
    ...(values["node-options"] === undefined ? [] : [values["node-options"]]),
  ];
  if (nodeOptions.length > 0) process.env["NODE_OPTIONS"] = nodeOptions.join(" ");
  const monotonicMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;
  const daemon = await startSqsd(server.endpoint, { queues: names, work: "noop" });
  delete process.env["NODE_OPTIONS"];
  let fromMs = 0;
  let toMs = 0;
  try {
    await sleep(Number(values.settle) * 1000);
    const before = await server.requestsByQueue();
    const cpuBefore = processCpuMs(daemon.pid);
    const threadsBefore = cpuByThreadName(daemon.pid);
    const start = monotonicMs();
    await sleep(windowMs);
    const cpuMs = processCpuMs(daemon.pid) - cpuBefore;
    const threadsAfter = cpuByThreadName(daemon.pid);
    const elapsed = monotonicMs() - start;
    const after = await server.requestsByQueue();
    fromMs = start;
    toMs = start + elapsed;
    let receives = 0;
    for (const name of names)
      receives += (after[name]?.["ReceiveMessage"] ?? 0) - (before[name]?.["ReceiveMessage"] ?? 0);
    console.log(
      `sqsd, ${queues} idle queues, ${(elapsed / 1000).toFixed(1)} s: ${cpuMs.toFixed(0)} ms CPU = ` +
        `${((cpuMs / elapsed) * 100).toFixed(2)}% of a core, ${receives} receives, ` +
        `${(cpuMs / Math.max(1, receives)).toFixed(3)} ms CPU per receive`,
    );
    const perThread = [...threadsAfter].map(
      ([name, ms]) => `${name} ${(ms - (threadsBefore.get(name) ?? 0)).toFixed(0)} ms`,
    );
    console.log(`  by thread name: ${perThread.join(", ")}`);
    if (profileDir !== undefined) process.env["IDLE_RECEIVES"] = String(receives);
    // Out of the window before the shutdown begins, which touches every poller.
    await sleep(2_000);
  } finally {
    await daemon.stop();
  }
  if (profileDir !== undefined) {
    const receives = Number(process.env["IDLE_RECEIVES"]);
    // The main thread's profile is the one that starts first (the daemon starts its pool threads after it).
    const profiles = readdirSync(profileDir)
      .filter((file) => file.endsWith(".cpuprofile"))
      .map((file) => ({ file, profile: JSON.parse(readFileSync(join(profileDir, file), "utf8")) as CpuProfile }))
      .sort((a, b) => a.profile.startTime - b.profile.startTime);
    for (const { file, profile } of profiles) {
      const { total, self, inclusive } = times(profile, fromMs, toMs);
      if (total < 0.01 * (toMs - fromMs)) continue;
      console.log(
        `\n${file}: ${total.toFixed(0)} ms sampled in the window, ${(total / receives).toFixed(3)} ms/receive`,
      );
      for (const [title, rows] of [
        ["self", self],
        ["inclusive", inclusive],
      ] as const) {
        console.log(`  by ${title} time:`);
        for (const [key, ms] of rows.slice(0, Number(values.top)))
          console.log(`  ${(ms / receives).toFixed(4)} ms/rcv  ${ms.toFixed(0).padStart(6)} ms  ${key}`);
      }
    }
  }
} finally {
  await server.stop();
}
