/**
 * What a bench handler does with a message, shared by sqsd's bench receivers and the peer consumers so that
 * every consumer runs the same code per message. Chosen by name, because it crosses process and thread
 * boundaries in an environment variable (`BENCH_WORK`):
 *
 * - `noop`: nothing, so a run measures the consumer's own overhead.
 * - `spin:<ms>`: a synchronous busy loop of that many milliseconds, a CPU-bound job.
 * - `sleep:<ms>`: waits that long without using the CPU, an I/O-bound job.
 * - `mix:<ms>`: every other message (counted per thread) waits that long, the rest return at once: quick and
 *   slow jobs through the same daemon, as in the soak.
 * - `latency`: the body is the send time; appends `handler start - send time` in ms to `BENCH_EVENTS`.
 */
import { openSync, writeSync } from "node:fs";

/** A handler body: takes the message body, resolves when the work is done. */
export type Work = (body: string | undefined) => void | Promise<void>;

/**
 * The wall clock in milliseconds with sub-millisecond precision. `performance.timeOrigin` is taken from the
 * wall clock when a process or thread starts and `performance.now()` is monotonic since then, so readings in
 * different processes and threads of one machine agree to well under a millisecond (checked: a worker thread's
 * reading falls between two of its parent's taken around a round trip), which `Date.now()` cannot promise.
 */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();

/** The {@link Work} a name stands for; throws on an unknown name, so a typo fails the run at once. */
export function workFor(name: string, eventsFile: string | undefined): Work {
  const [kind, argument] = name.split(":");
  const ms = Number(argument);
  if (kind === "noop") return () => undefined;
  if (kind === "spin" && ms > 0) return () => spin(ms);
  if (kind === "sleep" && ms > 0) return () => new Promise((resolve) => setTimeout(resolve, ms));
  if (kind === "mix" && ms > 0) return alternating(ms);
  if (kind === "latency" && eventsFile !== undefined) return latencyRecorder(eventsFile);
  throw new Error(`unknown bench work "${name}" (or latency without BENCH_EVENTS)`);
}

/** Reads `BENCH_WORK` and `BENCH_EVENTS`, as the bench passes them to every consumer process. */
export function workFromEnv(): Work {
  return workFor(process.env["BENCH_WORK"] ?? "noop", process.env["BENCH_EVENTS"]);
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy on purpose: this handler stands for CPU-bound work.
  }
}

function alternating(ms: number): Work {
  let count = 0;
  return () => {
    count += 1;
    return count % 2 === 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined;
  };
}

/**
 * Records send-to-start latency with one `write` to a file opened once per thread in append mode: no event
 * loop hop and no process hop, so the recording adds microseconds after the instant it measures, never before.
 * Appends of a short line from several threads or processes land whole (O_APPEND), so they can share the file.
 */
function latencyRecorder(eventsFile: string): Work {
  // Left open for the life of the thread: the bench ends the process, and the OS closes it then.
  let fd: number | undefined;
  return (body) => {
    const startedMs = wallClockMs();
    fd ??= openSync(eventsFile, "a");
    writeSync(fd, `${(startedMs - Number(body)).toFixed(3)}\n`);
  };
}
