import { appendFileSync } from "node:fs";
import { receiver } from "sqsd";

/**
 * The start-up scenario's receivers (bench/scenarios/startup.ts), written as a user writes plain TypeScript
 * (nothing but erasable types, no relative import), so Node 22.18+ loads it without tsx. Each handler appends
 * `<queue> <wall clock ms>` to `BENCH_EVENTS`; a body `exit` then ends the handler's thread, as a crashing
 * native module or a handler's `process.exit()` would. One receiver per queue named in `BENCH_QUEUES`.
 */
const eventsFile = process.env["BENCH_EVENTS"] ?? "";

function record(queue: string, body: string): void {
  appendFileSync(eventsFile, `${queue} ${(performance.timeOrigin + performance.now()).toFixed(1)}\n`);
  if (body === "exit") process.exit(1);
}

for (const queue of (process.env["BENCH_QUEUES"] ?? "").split(",").filter(Boolean)) {
  receiver<string>(queue, { codec: "raw" }, (message) => {
    // A crash's message comes back after its visibility timeout: the scenario has measured it by then.
    if (message.receiveCount === 1) record(queue, message.body);
  });
}
