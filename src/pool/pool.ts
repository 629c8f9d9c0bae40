import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import { Piscina } from "piscina";
import { TaskNotStartedError, WorkerStartError } from "../errors.js";
import type { TypeScriptLoader } from "../loader.js";
import type { Logger } from "../logging.js";
import type { SqsSettings } from "../sqs/settings.js";
import { ChannelEndpoint, type ServiceImplementation } from "./channel.js";
import { IdleThreads } from "./idle-threads.js";
import {
  ADMISSION,
  RUN_RESULTS,
  type EarlyRunResults,
  type HandlerRun,
  type HandlerTask,
  type LifecycleMessage,
  type Outcome,
  type PoolWorkerData,
  type RunResult,
  type SupervisorServices,
  type TaskResult,
  type ThreadServices,
  threadModules,
} from "./protocol.js";

/** Most runs one task carries; see {@link HandlerPool.maxRunsPerTask}. */
const MAX_RUNS_PER_TASK = 10;

/** The compiled thread entry. The supervisor never imports it; piscina loads it in each thread. */
const THREAD_ENTRY = fileURLToPath(new URL("../../workers/handler-thread.js", import.meta.url));

/** How the pool is built. */
export interface HandlerPoolOptions {
  /** Most threads: the pool grows to this many while no thread is idle (see IdleThreads's balancer). */
  readonly threads: number;
  /** Threads started (and verified) by {@link HandlerPool.start}, and never ended for idleness. @defaultValue `threads` */
  readonly minThreads?: number | undefined;
  /** How long a thread above `minThreads` may hold no task before it ends, after its teardown hooks. @defaultValue `60000` */
  readonly threadIdleMs?: number | undefined;
  readonly tasksPerThread: number;
  readonly receiverModules: readonly string[];
  /** How the supervisor loaded the receivers' TypeScript (src/loader.ts), for threads to do the same. @defaultValue `"none"` */
  readonly typescriptLoader?: TypeScriptLoader | undefined;
  readonly sqs: SqsSettings;
  readonly logger: Logger;
  /** The app's `telemetry.setup` module (absolute path), imported first in every thread. @defaultValue none */
  readonly telemetrySetup?: string | undefined;
  /** Heap limit per thread in MiB. @defaultValue Node's default */
  readonly maxHeapMb?: number | undefined;
}

/** One handler run as the supervisor sees it. */
export interface RunningHandler {
  readonly runId: number;
  /**
   * One outcome per message of the run. Rejects if the thread died under it, and with a
   * {@link TaskNotStartedError} if the run never started: its thread was ended first, could not load the
   * receiver modules, or it was aborted while it waited for a permit there.
   */
  readonly outcome: Promise<readonly Outcome[]>;
  /** When the thread started the run (epoch ms); undefined while it has not. */
  readonly startedAt: () => number | undefined;
  /** Asks the handler to stop: its `message.signal` aborts. A run that has not started never will. */
  abort(reason: string): void;
  /**
   * Ends the thread running this run (a handler that ignored its signal, or blocks its event loop). Other
   * runs on that thread die with it; piscina starts a replacement. False if the run has not started.
   */
  terminateThread(): Promise<boolean>;
}

/** A run to start: one message, or a batch handler's batch. */
export type RunRequest = Pick<HandlerRun, "messages">;

/** Runs to start for one queue, in one trip to one thread. */
export type TaskRequest = Omit<HandlerTask, "runs"> & { readonly runs: readonly RunRequest[] };

/**
 * The worker-thread pool: a facade over piscina that adds what sqsd needs from it — `minThreads` threads warm
 * and verified before the first message and more started while tasks need them (idle ones ending after their
 * teardown hooks), a way to abort one running handler, per-thread teardown hooks at close,
 * and services the supervisor offers handlers ({@link HandlerPool.serve}). A thread that cannot load the
 * receiver modules is broken: it says so, the pool reports itself broken ({@link HandlerPool.whenBroken}), and
 * tasks that land on it reject as never started.
 */
export class HandlerPool {
  readonly #options: HandlerPoolOptions;
  readonly #channel: ChannelEndpoint<SupervisorServices, ThreadServices>;
  readonly #piscina: Piscina<HandlerTask, TaskResult>;
  readonly #readyThreads = new Set<number>();
  readonly #tornDown = new Set<number>();
  /** Re-checked after every lifecycle message by whoever is waiting on the pool. */
  readonly #listeners = new Set<() => void>();
  #broken: WorkerStartError | undefined;
  readonly #brokenSignal: Promise<WorkerStartError>;
  #reportBroken!: (error: WorkerStartError) => void;
  #closing: Promise<void> | undefined;
  /** Threads that ended while the pool was open (piscina replaced them), for the dashboard. */
  #threadsEnded = 0;
  #lastRunId = 0;
  readonly #minThreads: number;
  readonly #idle: IdleThreads;
  /** Per run slot, which thread started (or refused) its run; see {@link PoolWorkerData.threadMap}. */
  readonly #threadMap: Int32Array;
  /** Per run slot, when its run started; see {@link PoolWorkerData.startTimes}. */
  readonly #startTimes: BigInt64Array;
  /** How each unsettled run takes a result that comes before its task's (see RUN_RESULTS), by run id. */
  readonly #earlyResults = new Map<number, (result: RunResult) => void>();
  readonly #freeSlots: number[];

  constructor(options: HandlerPoolOptions) {
    this.#options = options;
    this.#minThreads = Math.min(options.threads, options.minThreads ?? options.threads);
    this.#idle = new IdleThreads({
      minThreads: this.#minThreads,
      maxThreads: options.threads,
      tasksPerThread: options.tasksPerThread,
      idleMs: options.threadIdleMs ?? 60_000,
      retire: (threadId) => this.#retire(threadId),
      queuedTasks: () => this.#piscina.queueSize,
    });
    this.#brokenSignal = new Promise((resolve) => (this.#reportBroken = resolve));
    const channelName = `sqsd:pool:${process.pid}:${randomUUID()}`;
    this.#channel = new ChannelEndpoint({
      channelName,
      address: "supervisor",
      onLifecycle: (message) => this.#onLifecycle(message),
    });
    // One slot per run that can run at once, and spares: a slot is freed when its run settles.
    const slots = options.threads * options.tasksPerThread + 16;
    const threadMap = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
    const startTimes = new SharedArrayBuffer(slots * BigInt64Array.BYTES_PER_ELEMENT);
    this.#threadMap = new Int32Array(threadMap);
    this.#startTimes = new BigInt64Array(startTimes);
    this.#freeSlots = Array.from({ length: slots }, (_, slot) => slots - 1 - slot);
    const workerData: PoolWorkerData = {
      receiverModules: options.receiverModules,
      typescriptLoader: options.typescriptLoader ?? "none",
      telemetrySetup: options.telemetrySetup,
      sqs: options.sqs,
      channelName,
      tasksPerThread: options.tasksPerThread,
      threadMap,
      startTimes,
    };
    this.#piscina = new Piscina<HandlerTask, TaskResult>({
      filename: THREAD_ENTRY,
      minThreads: this.#minThreads,
      maxThreads: options.threads,
      concurrentTasksPerWorker: options.tasksPerThread,
      // piscina's idle timeout would end a thread without its teardown hooks: IdleThreads ends them instead,
      // and its balancer keeps tasks off a thread while it does.
      idleTimeout: Number.POSITIVE_INFINITY,
      loadBalancer: this.#idle.balancer,
      // Piscina's Atomics.wait idle loop freezes a thread's event loop between tasks, which would stall
      // handlers' timers and database pools. Plain message passing keeps every thread's loop running.
      atomics: "disabled",
      workerData,
      ...(options.maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } }),
    });
    // A thread that dies (a handler's process.exit(), an uncaught error, out of memory) is replaced by piscina;
    // its tasks reject and the dispatcher settles them. The event only needs to be heard, not handled here.
    this.#piscina.on("error", (error: unknown) => {
      options.logger.debug("pool thread error", { error: String(error) });
    });
    // A thread's admission request arrives behind piscina's "ready" on the same port: piscina has marked the
    // thread started by now, so it may run its first task (see ADMISSION).
    // Runs that ended before the rest of their task report on the same port.
    this.#piscina.on("message", (message: unknown) => {
      const fields = message as Record<string, unknown> | null;
      const threadId = fields?.[ADMISSION];
      if (typeof threadId === "number") this.#channel.post({ type: "admitted", threadId });
      const early = fields?.[RUN_RESULTS] as EarlyRunResults | undefined;
      for (const [runId, runResult] of early ?? []) this.#earlyResults.get(runId)?.(runResult);
    });
    // Piscina replaces a thread that dies after it has started, but once one dies while starting it never
    // replaces any thread again: the pool would shrink for good, in the end to no thread, and the daemon would
    // stall with its pollers still running. Stopping (exit 1) lets the orchestrator start a whole new process.
    this.#piscina.on("workerCreate", (thread: Parameters<IdleThreads["added"]>[0]) => this.#idle.added(thread));
    this.#piscina.on("workerDestroy", () => {
      // A thread sqsd ended for idleness is neither a crash nor one to replace.
      if (this.#idle.removed() || this.#closing) return;
      this.#threadsEnded += 1;
      // Piscina starts the replacement, up to minThreads, right after this event, within the same call; above
      // minThreads it starts threads again when every remaining one is full.
      setImmediate(() => {
        if (this.#closing || this.#broken || this.#piscina.threads.length >= this.#minThreads) return;
        this.#markBroken(
          new WorkerStartError(
            `a pool thread ended while starting, and piscina does not replace threads after that: ` +
              `${this.#piscina.threads.length} of ${this.#minThreads} threads left`,
          ),
        );
      });
    });
  }

  #markBroken(error: WorkerStartError, fields: Record<string, unknown> = {}): void {
    if (this.#broken) return;
    this.#broken = error;
    this.#options.logger.error(error.message, fields);
    this.#reportBroken(error);
  }

  /**
   * Resolves if a thread reports that it cannot load the receiver modules, including a replacement thread
   * long after start-up; never resolves otherwise. The daemon stops on it rather than poll with a broken pool.
   */
  whenBroken(): Promise<WorkerStartError> {
    return this.#brokenSignal;
  }

  /**
   * Answers pool threads' requests for `name` (see {@link SupervisorServices}), e.g. a handler's
   * `message.extendVisibility(seconds)`. A request for a service not registered fails in the handler.
   */
  serve<N extends keyof SupervisorServices>(
    name: N,
    implementation: ServiceImplementation<SupervisorServices[N]>,
  ): void {
    this.#channel.serve(name, implementation);
  }

  /** Threads alive now: from `minThreads` when idle up to `threads` under load. */
  get threadCount(): number {
    return this.#piscina.threads.length;
  }

  /** Threads started with the pool and kept when idle. */
  get minThreads(): number {
    return this.#minThreads;
  }

  /** Threads that ended (a crash, a timed-out handler's thread) and were replaced, since start. */
  get threadReplacements(): number {
    return this.#threadsEnded;
  }

  /** Share of the pool's time spent running tasks (0..1). */
  get utilization(): number {
    return this.#piscina.utilization;
  }

  /**
   * Resolves once the first `minThreads` threads have loaded the receiver modules. Throws
   * {@link WorkerStartError} as soon as one thread reports it could not, or when `timeoutMs` passes first.
   * Threads the pool adds later are checked the same way ({@link HandlerPool.whenBroken}).
   */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.#broken) throw this.#broken;
    if (this.#readyThreads.size >= this.#minThreads) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(
          new WorkerStartError(
            `only ${this.#readyThreads.size} of ${this.#minThreads} pool threads loaded the receivers within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const listener = (): void => {
        if (this.#broken) reject(this.#broken);
        else if (this.#readyThreads.size >= this.#minThreads) resolve();
        else return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
    });
  }

  /**
   * How many runs {@link HandlerPool.runAll} may put in one task: up to a quarter of a thread's
   * `tasksPerThread` (at most 10), 1 below 8. piscina places tasks by count, not by runs, so a larger pack
   * could leave its runs waiting for permits on one thread while another has room; with `tasksPerThread` 1
   * (CPU-bound handlers) every run has a thread hop of its own.
   */
  get maxRunsPerTask(): number {
    return Math.max(1, Math.min(MAX_RUNS_PER_TASK, Math.floor(this.#options.tasksPerThread / 4)));
  }

  /**
   * Starts handler runs for one queue in one task: one trip to one thread, each run with its own outcome,
   * abort and start time. No AbortSignal goes to piscina: it would mark the task abortable, and piscina runs an
   * abortable task alone on its thread, which would silently cap concurrency at one task per thread. Hard
   * stops terminate threads instead ({@link HandlerPool.terminate}).
   */
  runAll(request: TaskRequest): RunningHandler[] {
    const runs: HandlerRun[] = request.runs.map(({ messages }) => {
      const slot = this.#freeSlots.pop();
      if (slot === undefined) throw new Error("no free run slot: more runs than the pool can run at once");
      Atomics.store(this.#threadMap, slot, 0);
      Atomics.store(this.#startTimes, slot, 0n);
      return { runId: ++this.#lastRunId, slot, messages };
    });
    const task: HandlerTask = { queue: request.queue, suffix: request.suffix, fullName: request.fullName, runs };
    const result = this.#piscina.run(task);
    return runs.map((run, index) => this.#handle(run, index, result));
  }

  /**
   * The supervisor's view of one run of a task whose result is `result`. The run settles on whichever comes
   * first: its own early result (see RUN_RESULTS) or its task's.
   */
  #handle(run: HandlerRun, index: number, result: Promise<TaskResult>): RunningHandler {
    const { runId, slot } = run;
    let settledStart: number | undefined;
    let settled = false;
    // Read the slot's cells, then free it: it may be reused at once.
    const settle = (): number => {
      const cell = Atomics.load(this.#threadMap, slot);
      const started = Number(Atomics.load(this.#startTimes, slot));
      settledStart = started > 0 ? started : undefined;
      settled = true;
      this.#freeSlots.push(slot);
      this.#earlyResults.delete(runId);
      return cell;
    };
    const outcome = new Promise<readonly Outcome[]>((resolve, reject) => {
      const ended = (runResult: RunResult | undefined): void => {
        if (settled) return;
        settle();
        if (runResult === "notStarted" || runResult === undefined) {
          reject(new TaskNotStartedError(new Error("aborted before it began"), "aborted"));
        } else {
          resolve(runResult);
        }
      };
      this.#earlyResults.set(runId, ended);
      result.then(
        (results) => ended(results[index]),
        (error: unknown) => {
          if (settled) return;
          // With tasksPerThread > 1, piscina queues tasks on a thread whose handler may be blocking it, and a
          // packed run may wait for a permit there; when that thread is ended, they fail without ever having
          // run. A broken thread marks the runs it refuses with its negated id.
          const cell = settle();
          // piscina rejects with the thread's error (an Error): passed on as it is.
          reject(
            cell > 0 ? (error as Error) : new TaskNotStartedError(error, cell < 0 ? "threadBroken" : "threadEnded"),
          );
        },
      );
    });
    const channel = this.#channel;
    return {
      runId,
      outcome,
      startedAt: () => {
        if (settled) return settledStart;
        const started = Number(Atomics.load(this.#startTimes, slot));
        return started > 0 ? started : undefined;
      },
      abort(reason) {
        channel.post({ type: "abort", runId, reason });
      },
      terminateThread: async () => {
        if (settled) return false;
        const thread = this.#thread(Atomics.load(this.#threadMap, slot));
        if (!thread) return false;
        await thread.terminate();
        return true;
      },
    };
  }

  /**
   * Runs every thread's teardown hooks (bounded by `timeoutMs`), then destroys the pool. Memoized: a second
   * call waits for the first.
   */
  close(timeoutMs = 10_000): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  /**
   * Ends every thread now, without teardown hooks: running tasks reject. For hard stops, when handlers did not
   * finish in time. Memoized together with {@link HandlerPool.close}.
   */
  terminate(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  /**
   * Ends an idle thread: its teardown hooks first (bounded like a close's), then the thread. IdleThreads's
   * balancer gives it no task from before this call.
   */
  async #retire(threadId: number): Promise<void> {
    if (this.#closing) return;
    const thread = this.#thread(threadId);
    if (!thread) return;
    await this.#teardown(
      { retiring: threadId },
      10_000,
      "an idle pool thread did not finish its teardown hooks in time",
    );
    if (this.#closing) return;
    this.#options.logger.debug("ended an idle pool thread", { threadId, threads: this.#piscina.threads.length - 1 });
    await thread.terminate();
  }

  async #shutDown(): Promise<void> {
    this.#idle.stop();
    // Closed first: handlers still waiting on a request to the supervisor get an error, not silence.
    this.#channel.close();
    await this.#piscina.destroy();
  }

  async #close(timeoutMs: number): Promise<void> {
    // Only threads that loaded the receivers can have run setup hooks. One still starting may not even listen on
    // the channel yet: it would miss the request, and the close would wait its whole timeout for nothing.
    const expected = new Set(
      this.#piscina.threads.map((thread) => thread.threadId).filter((threadId) => this.#readyThreads.has(threadId)),
    );
    try {
      if (expected.size > 0) {
        await this.#teardown(
          { closing: [...expected] },
          timeoutMs,
          "pool threads did not finish their teardown hooks in time",
        );
      }
    } finally {
      await this.#shutDown();
    }
  }

  /**
   * Asks threads for their teardown hooks (`retiring`: the one idle thread being ended; else every thread, as
   * the pool closes) and waits until each has answered or is gone, at most `timeoutMs`; past that it warns
   * (saying how many did not answer) and goes on. A close that begins while one thread retires ends that
   * wait: the close tears every thread down.
   */
  async #teardown(
    target: { readonly retiring: number } | { readonly closing: readonly number[] },
    timeoutMs: number,
    lateWarning: string,
  ): Promise<void> {
    const single = "retiring" in target ? target.retiring : undefined;
    const threadIds = "retiring" in target ? [target.retiring] : target.closing;
    const pending = (): number[] => threadIds.filter((id) => !this.#tornDown.has(id) && this.#thread(id));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#options.logger.warn(lateWarning, { timeoutMs, waitingFor: pending().length });
        done();
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve();
      };
      const listener = (): void => {
        if (pending().length === 0 || (single !== undefined && this.#closing)) done();
      };
      this.#listeners.add(listener);
      this.#channel.post(single === undefined ? { type: "teardown" } : { type: "teardown", threadId: single });
    });
  }

  /** The live thread with this id, if any. Thread-map cells that name no running task (0, or < 0) match none. */
  #thread(threadId: number): Worker | undefined {
    return threadId <= 0 ? undefined : this.#piscina.threads.find((thread) => thread.threadId === threadId);
  }

  #onLifecycle(message: LifecycleMessage): void {
    switch (message.type) {
      case "ready":
        this.#readyThreads.add(message.threadId);
        break;
      case "broken":
        this.#markBroken(
          new WorkerStartError(
            `a pool thread could not load ${threadModules(message.error)}: ${message.error.name}: ${message.error.message}`,
          ),
          { threadId: message.threadId, stack: message.error.stack },
        );
        break;
      case "tornDown":
        this.#tornDown.add(message.threadId);
        for (const error of message.errors) {
          this.#options.logger.warn("a teardown hook failed", {
            threadId: message.threadId,
            error: `${error.name}: ${error.message}`,
          });
        }
        break;
      case "teardown":
      case "abort":
      case "admitted":
        break;
    }
    for (const listener of [...this.#listeners]) listener();
  }
}
