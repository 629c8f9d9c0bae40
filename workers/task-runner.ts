import { performance } from "node:perf_hooks";
import { parentPort, threadId } from "node:worker_threads";
import { loggableDecodeError } from "../src/codecs/errors.js";
import { errorSummary } from "../src/errors.js";
import { importUserModule, useTypeScriptLoader } from "../src/loader.js";
import {
  RUN_RESULTS,
  serializeError,
  type EarlyRunResults,
  type HandlerRun,
  type HandlerTask,
  type Outcome,
  type PoolWorkerData,
  type RunResult,
  type TaskResult,
  threadModules,
  type ThreadFailurePhase,
  type WireMessage,
} from "../src/pool/protocol.js";
import { ThreadChannel } from "../src/pool/thread-channel.js";
import { decode, type ExtendVisibility } from "./decode-message.js";
import { missing } from "./handler-call.js";
import { runGuardedHandler } from "./idempotent-call.js";
import { ThreadHooks } from "./thread-hooks.js";
import { resolveAsPoolThread } from "./thread-conditions.js";
import { getRegistry } from "../src/registry/registry.js";
import type { ReceivedMessage } from "../src/registry/types.js";
import { configureSqs } from "../src/sqs/settings.js";
import { takeOffloadedSends } from "../src/payloads/stats.js";
import { Permits } from "../src/util/permits.js";
import { importTelemetrySetup } from "../src/telemetry/setup.js";
import { useStrippedSources } from "../src/typescript-sources.js";

/** Runs one task (one or several handler runs) in this thread. */
export type TaskRunner = (task: HandlerTask) => Promise<TaskResult>;

/**
 * Prepares this thread: SQS settings for handlers that send, then the receiver modules, imported once. Tells
 * the supervisor on the pool's channel whether that worked. A thread that could not load them is broken for
 * good: it refuses every task it is given (the pool reports those as never started), so it can never run a
 * handler half-loaded.
 */
export async function startThread(data: PoolWorkerData): Promise<TaskRunner> {
  configureSqs(data.sqs);
  // Before the receivers, so that their "sqsd" is the thread entry.
  resolveAsPoolThread();
  useTypeScriptLoader(data.typescriptLoader);
  // What the supervisor stripped: this thread then never instantiates Node's type stripper for it.
  const stopStripped = data.typescriptSources ? useStrippedSources(data.typescriptSources) : false;
  const channel = new ThreadChannel(data.channelName);
  const threadMap = new Int32Array(data.threadMap);
  const startTimes = new BigInt64Array(data.startTimes);
  try {
    // The app's OpenTelemetry set-up first, so that its SDK and instrumentations see the receivers load.
    if (data.telemetrySetup !== undefined) await importTelemetrySetup(data.telemetrySetup);
    for (const file of data.receiverModules) await importUserModule(file);
  } catch (error) {
    dropStrippedSources(data, stopStripped);
    const serialized = serializeError(error);
    channel.announceBroken(serialized);
    return async (task) => {
      // Marked in shared memory before the task fails, so the pool knows its runs were refused, not started.
      for (const run of task.runs) Atomics.store(threadMap, run.slot, -threadId);
      throw new Error(`this pool thread could not load ${threadModules(serialized)}: ${errorSummary(error)}`);
    };
  }
  dropStrippedSources(data, stopStripped);
  const hooks = new ThreadHooks();
  /** Abort controllers of the runs in this thread, started or waiting for a permit, by run id. */
  const runs = new Map<number, AbortController>();
  // Piscina gives a thread up to tasksPerThread tasks, and a task may carry several runs: the permits keep the
  // handlers running at once on this thread to tasksPerThread all the same.
  const permits = new Permits(data.tasksPerThread);
  channel.announceReady({
    abort: (runId, reason) => runs.get(runId)?.abort(new Error(reason)),
    teardown: async () => {
      const errors = await hooks.teardown();
      // The thread ends after this: spans still in the SDK's batch would be lost.
      if (data.telemetrySetup !== undefined) await (await import("../src/telemetry/flush.js")).flushSpans();
      return errors;
    },
  });
  // Asked now, so that the answer is usually here before the first task (see ADMISSION).
  void channel.admitted();
  const extendVisibility: ExtendVisibility = (deliveryId, seconds) => channel.extendVisibility(deliveryId, seconds);

  const early = new EarlyResults();

  const startRun = async (task: HandlerTask, run: HandlerRun, abort: AbortController): Promise<RunResult> => {
    try {
      if (!(await permits.acquire(abort.signal))) return "notStarted";
      try {
        // Tell the supervisor which thread runs this, and since when, through shared memory: if the handler
        // then blocks this thread's event loop, the supervisor can still time it out and end the thread.
        Atomics.store(threadMap, run.slot, threadId);
        Atomics.store(startTimes, run.slot, BigInt(Date.now()));
        const batch = getRegistry().find(task.queue)?.handler?.kind === "batch";
        const handle = (): Promise<Outcome[]> =>
          runHandlerRun(task, run.messages, hooks, abort.signal, extendVisibility);
        return withOffloadedSends(
          tracing(data)
            ? await (await processSpans()).traceRun(task, run.messages, batch, handle)
            : untraced(run.messages, batch, await handle()),
        );
      } catch (error) {
        // runHandlerRun catches what handlers throw; this is sqsd's own fault. It fails this run alone: a
        // rejected task would fail its other runs too, while they go on running here.
        return run.messages.map(() => ({
          kind: "failed",
          phase: "handler",
          error: serializeError(error),
          durationMs: 0,
        }));
      } finally {
        permits.release();
      }
    } finally {
      runs.delete(run.runId);
    }
  };

  return async (task) => {
    // Registered before the admission wait, so that an abort sent meanwhile is heard.
    const aborts = task.runs.map((run) => {
      const abort = new AbortController();
      runs.set(run.runId, abort);
      return abort;
    });
    // The first task waits until piscina counts this thread as started, so that a handler ending the thread
    // at once is taken for a crash (the thread is replaced), not for a thread that failed to start.
    await channel.admitted();
    let unfinished = task.runs.length;
    return Promise.all(
      task.runs.map(async (run, index) => {
        const result = await startRun(task, run, aborts[index]!);
        unfinished -= 1;
        early.ended(run.runId, result, () => unfinished > 0);
        return result;
      }),
    );
  };
}

/** Node keeps the modules now: their text need not stay in this thread's heap (workerData holds it too). */
function dropStrippedSources(data: PoolWorkerData, stop: (() => void) | false): void {
  if (stop) stop();
  delete data.typescriptSources;
}

/** The key under which `@opentelemetry/api` (major version 1) keeps whatever an app registered globally. */
const OPENTELEMETRY_GLOBALS = Symbol.for("opentelemetry.js.api.1");

/**
 * Whether this thread's runs get `process` spans: with `telemetry.setup`, or once anything (an SDK, a context
 * manager) registered itself with the OpenTelemetry API some other way. Without either every span would be the
 * API's no-op, so the thread need not load the API and the tracing code (about 2 MiB of RSS a thread).
 */
function tracing(data: PoolWorkerData): boolean {
  return data.telemetrySetup !== undefined || OPENTELEMETRY_GLOBALS in globalThis;
}

/** The `process` span's module, imported at the first traced run. */
let processSpanModule: Promise<typeof import("./process-span.js")> | undefined;

function processSpans(): Promise<typeof import("./process-span.js")> {
  processSpanModule ??= import("./process-span.js");
  return processSpanModule;
}

/**
 * What an untraced run reports: what the API's no-op `process` span would have, the producer's context for a
 * single message (the no-op span carries its parent's), none for a batch (a new trace, with no-op nothing).
 */
function untraced(messages: readonly WireMessage[], batch: boolean, outcomes: Outcome[]): Outcome[] {
  const processSpan = batch ? undefined : messages[0]?.trace?.parent;
  return processSpan ? outcomes.map((outcome) => ({ ...outcome, processSpan })) : outcomes;
}

/**
 * Reports the results of runs that ended while others of their task still run (see RUN_RESULTS), gathered
 * for a turn of the event loop: runs of a quick task that all end together come back with the task alone,
 * and no extra message is posted.
 */
class EarlyResults {
  readonly #ended: { runId: number; result: RunResult; taskRunning: () => boolean }[] = [];

  ended(runId: number, result: RunResult, taskRunning: () => boolean): void {
    if (!taskRunning()) return;
    if (this.#ended.length === 0) setImmediate(() => this.#flush());
    this.#ended.push({ runId, result, taskRunning });
  }

  #flush(): void {
    const results: EarlyRunResults = this.#ended
      .splice(0)
      .filter((entry) => entry.taskRunning())
      .map((entry) => [entry.runId, entry.result] as const);
    if (results.length > 0) parentPort?.postMessage({ [RUN_RESULTS]: results });
  }
}

/** Asks the supervisor to set a message's visibility timeout. */

/** One handler run: decode its messages, then hand them to the queue's handler; one outcome per message. */
async function runHandlerRun(
  task: HandlerTask,
  messages: readonly WireMessage[],
  hooks: ThreadHooks,
  signal: AbortSignal,
  extendVisibility: ExtendVisibility,
): Promise<Outcome[]> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const failAll = (phase: ThreadFailurePhase, error: unknown): Outcome[] =>
    messages.map(() => ({ kind: "failed", phase, error: serializeError(error), durationMs: elapsed() }));
  const queue = getRegistry().find(task.queue);
  if (!queue?.handler) return failAll("setup", new Error(`queue "${task.queue}" has no handler in this thread`));
  try {
    await hooks.setUp(queue);
  } catch (error) {
    return failAll("setup", error);
  }

  // Decode every message first; one that does not decode fails alone and never reaches the handler.
  const outcomes: (Outcome | undefined)[] = messages.map(() => undefined);
  const decoded: { index: number; message: ReceivedMessage }[] = [];
  for (const [index, wire] of messages.entries()) {
    try {
      decoded.push({ index, message: await decode(queue, task, wire, signal, extendVisibility) });
    } catch (error) {
      // Made safe here, in the thread: no part of the body may cross to the supervisor's log, not even in a
      // stack (a SyntaxError's stack repeats its message, which quotes the text).
      outcomes[index] = {
        kind: "failed",
        phase: "decode",
        error: serializeError(loggableDecodeError(error)),
        durationMs: elapsed(),
        codec: queue.codec.name,
      };
    }
  }
  if (decoded.length > 0) {
    const results = await runGuardedHandler(
      task,
      queue,
      decoded.map((item) => item.message),
      elapsed,
    );
    decoded.forEach((item, position) => (outcomes[item.index] = results[position]));
  }
  // The supervisor deletes an offloaded body after its message (deleteAfterProcessing) and counts it.
  for (const { index, message } of decoded) {
    const outcome = outcomes[index];
    if (outcome && message.payload.location === "s3") {
      const { bucket, key, sizeBytes } = message.payload;
      outcomes[index] = { ...outcome, payload: { bucket, key, sizeBytes } };
    }
  }
  return outcomes.map(
    (outcome) => outcome ?? { kind: "failed", phase: "handler", error: missing, durationMs: elapsed() },
  );
}

/** Hands the offloaded sends this thread counted (by any run, or a setup hook) to the supervisor. */
function withOffloadedSends(outcomes: Outcome[]): Outcome[] {
  const offloadedSends = takeOffloadedSends();
  const first = outcomes[0];
  if (offloadedSends && first) outcomes[0] = { ...first, offloadedSends };
  return outcomes;
}
