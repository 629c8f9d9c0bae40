import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import { Piscina } from "piscina";
import { WorkerStartError } from "../pool-errors.js";
import { ChannelEndpoint, type ServiceImplementation } from "./channel.js";
import { IdleThreads } from "./idle-threads.js";
import { ThreadReports } from "./thread-reports.js";
import {
  ADMISSION,
  RUN_RESULTS,
  type EarlyRunResults,
  type HandlerRun,
  type HandlerTask,
  type TaskResult,
} from "./protocol.js";
import type { SupervisorServices, ThreadServices } from "./channel-messages.js";
import { threadWorkerData, type HandlerPoolOptions, type TaskRequest } from "./pool-options.js";
import { RunSlots } from "./run-slots.js";
import { requestTeardown, type TeardownContext } from "./teardown.js";
import { EarlyResults, trackRun, type RunContext, type RunningHandler } from "./running-handler.js";
import { POOL_THREAD_YOUNG_GENERATION_MB } from "../process/young-generation.js";

export type { RunningHandler } from "./running-handler.js";
export type { HandlerPoolOptions, RunRequest, TaskRequest } from "./pool-options.js";

/** Most runs one task carries; see {@link HandlerPool.maxRunsPerTask}. */
const MAX_RUNS_PER_TASK = 10;

/** The compiled thread entry. The supervisor never imports it; piscina loads it in each thread. */
const THREAD_ENTRY = fileURLToPath(new URL("../../workers/handler-thread.js", import.meta.url));

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
  readonly #reports: ThreadReports;
  #closing: Promise<void> | undefined;
  /** Threads that ended while the pool was open (piscina replaced them), for the dashboard. */
  #threadsEnded = 0;
  #lastRunId = 0;
  readonly #minThreads: number;
  readonly #idle: IdleThreads;
  readonly #slots: RunSlots;
  /** How each unsettled run takes a result that comes before its task's (see RUN_RESULTS). */
  readonly #early = new EarlyResults();
  readonly #runContext: RunContext;
  readonly #teardownContext: TeardownContext;
  /** Threads that asked for admission before piscina reported them started (see ADMISSION). */
  readonly #unadmitted = new Set<number>();

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
      // A broken thread takes tasks, to refuse them: they fail as never started rather than wait forever.
      reported: (threadId) => this.#reports.isReady(threadId) || this.#reports.broken !== undefined,
    });
    this.#reports = new ThreadReports(options.logger);
    const channelName = `sqsd:pool:${process.pid}:${randomUUID()}`;
    this.#channel = new ChannelEndpoint({
      channelName,
      address: "supervisor",
      onLifecycle: (message) => this.#reports.heard(message),
    });
    // One slot per run that can run at once, and spares: a slot is freed when its run settles.
    this.#slots = new RunSlots(options.threads * options.tasksPerThread + 16);
    this.#runContext = {
      slots: this.#slots,
      early: this.#early,
      channel: this.#channel,
      thread: (threadId) => this.#thread(threadId),
    };
    this.#teardownContext = {
      channel: this.#channel,
      reports: this.#reports,
      logger: options.logger,
      thread: (threadId) => this.#thread(threadId),
      closing: () => this.#closing !== undefined,
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
      workerData: threadWorkerData(options, {
        channelName,
        threadMap: this.#slots.threadMapBuffer,
        startTimes: this.#slots.startTimesBuffer,
      }),
      // Each thread's own heap limits (src/process/young-generation.ts says why the young generation's).
      resourceLimits: {
        maxYoungGenerationSizeMb: POOL_THREAD_YOUNG_GENERATION_MB,
        ...(options.maxHeapMb === undefined ? {} : { maxOldGenerationSizeMb: options.maxHeapMb }),
      },
    });
    this.#idle.startedEarly(this.#piscina.threads.map((thread) => thread.threadId));
    // A thread that dies (a handler's process.exit(), an uncaught error, out of memory) is replaced by piscina;
    // its tasks reject and the dispatcher settles them. The event only needs to be heard, not handled here.
    this.#piscina.on("error", (error: unknown) => {
      options.logger.debug("pool thread error", { error: String(error) });
    });
    // A thread asks for admission once it has loaded, which may be before piscina has marked it started (its
    // "ready" goes on the same port, right after): answered here or at workerCreate (see ADMISSION).
    // Runs that ended before the rest of their task report on the same port.
    this.#piscina.on("message", (message: unknown) => {
      const fields = message as Record<string, unknown> | null;
      const threadId = fields?.[ADMISSION];
      if (typeof threadId === "number") this.#admit(threadId);
      const early = fields?.[RUN_RESULTS] as EarlyRunResults | undefined;
      if (early) this.#early.deliver(early);
    });
    // Piscina replaces a thread that dies after it has started, but once one dies while starting it never
    // replaces any thread again: the pool would shrink for good, in the end to no thread, and the daemon would
    // stall with its pollers still running. Stopping (exit 1) lets the orchestrator start a whole new process.
    this.#piscina.on("workerCreate", (thread: Parameters<IdleThreads["added"]>[0]) => {
      this.#idle.added(thread);
      if (this.#unadmitted.delete(thread.id)) this.#channel.post({ type: "admitted", threadId: thread.id });
    });
    this.#piscina.on("workerDestroy", () => {
      // A thread sqsd ended for idleness is neither a crash nor one to replace.
      if (this.#idle.removed() || this.#closing) return;
      this.#threadsEnded += 1;
      // Piscina starts the replacement, up to minThreads, right after this event, within the same call; above
      // minThreads it starts threads again when every remaining one is full.
      setImmediate(() => {
        if (this.#closing || this.#reports.broken || this.#piscina.threads.length >= this.#minThreads) return;
        this.#reports.markBroken(
          new WorkerStartError(
            `a pool thread ended while starting, and piscina does not replace threads after that: ` +
              `${this.#piscina.threads.length} of ${this.#minThreads} threads left`,
          ),
        );
      });
    });
  }

  /**
   * Resolves if a thread reports that it cannot load the receiver modules, including a replacement thread
   * long after start-up; never resolves otherwise. The daemon stops on it rather than poll with a broken pool.
   */
  whenBroken(): Promise<WorkerStartError> {
    return this.#reports.whenBroken();
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
    const reports = this.#reports;
    const started = await reports.until(() => !!reports.broken || reports.readyCount >= this.#minThreads, timeoutMs);
    if (reports.broken) throw reports.broken;
    if (!started) {
      throw new WorkerStartError(
        `only ${reports.readyCount} of ${this.#minThreads} pool threads loaded the receivers within ${timeoutMs} ms`,
      );
    }
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
    const runs: HandlerRun[] = request.runs.map(({ messages }) => ({
      runId: ++this.#lastRunId,
      slot: this.#slots.take(),
      messages,
    }));
    const { queue, suffix, fullName, visibilityTimeoutSeconds } = request;
    const task: HandlerTask = {
      queue,
      suffix,
      fullName,
      ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
      runs,
    };
    const result = this.#piscina.run(task);
    return runs.map((run, index) => trackRun(run, index, result, this.#runContext));
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
    await requestTeardown(
      this.#teardownContext,
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
      this.#piscina.threads.map((thread) => thread.threadId).filter((threadId) => this.#reports.isReady(threadId)),
    );
    try {
      if (expected.size > 0) {
        await requestTeardown(
          this.#teardownContext,
          { closing: [...expected] },
          timeoutMs,
          "pool threads did not finish their teardown hooks in time",
        );
      }
    } finally {
      await this.#shutDown();
    }
  }

  /** Admits a thread that asked, once piscina counts it as started: at once, or at its `workerCreate`. */
  #admit(threadId: number): void {
    if (this.#idle.knows(threadId)) this.#channel.post({ type: "admitted", threadId });
    else this.#unadmitted.add(threadId);
  }

  /** The live thread with this id, if any. Thread-map cells that name no running task (0, or < 0) match none. */
  #thread(threadId: number): Worker | undefined {
    return threadId <= 0 ? undefined : this.#piscina.threads.find((thread) => thread.threadId === threadId);
  }
}
