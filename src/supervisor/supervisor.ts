import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ResolvedConfig } from "../config/types.js";
import { errorSummary, type WorkerStartError } from "../errors.js";
import { SQS_LIMITS } from "../limits.js";
import type { Logger } from "../logging.js";
import { Acker } from "./acker.js";
import { Backoff } from "./backoff.js";
import { Capacity } from "./capacity.js";
import { Dispatcher } from "./dispatcher.js";
import { SupervisorEmitter } from "./events.js";
import type { HandlerPool } from "../pool/pool.js";
import { Poller, type PollerHealth, type PollTarget } from "./poller.js";

/** Everything the supervisor runs with; the run command builds it. */
export interface SupervisorOptions {
  readonly config: ResolvedConfig;
  readonly targets: readonly PollTarget[];
  readonly client: SQSClient;
  readonly pool: HandlerPool;
  readonly logger: Logger;
  /** Stop after this many messages were processed (`--message-limit`). @defaultValue no limit */
  readonly messageLimit?: number | undefined;
}

/** Why and how the supervisor stopped. */
export interface StopReport {
  readonly reason: string;
  /** 0 for a clean stop; 1 when a drain timed out or the pool broke. */
  readonly exitCode: 0 | 1;
  readonly processed: number;
  /** Handlers still running when the drain timed out; their messages were released. */
  readonly interrupted: number;
}

/** The supervisor's state, for health and readiness checks and status pages. */
export interface SupervisorHealth {
  readonly state: "starting" | "running" | "paused" | "draining" | "stopped";
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly processed: number;
  readonly pollers: readonly PollerHealth[];
}

/** After the drain timeout, how long handlers get between their signal aborting and their thread ending. */
const ABORT_GRACE_MS = 2_000;
/**
 * Pause of a queue after its handler crashed its thread, doubling while crashes continue. A handler that kills
 * every thread it touches then costs a thread every few seconds at most, instead of a respawn loop.
 */
const CRASH_BACKOFF = { initialMs: 1_000, maxMs: 60_000 } as const;
/** How often the watchdog looks for stalled pollers. */
const WATCHDOG_INTERVAL_MS = 1_000;

/**
 * The daemon's core: one poller per queue and suffix, all on this event loop, feeding one worker-thread pool
 * through the dispatcher, which applies each handler run's outcome to its message in SQS.
 *
 * Lifecycle: {@link Supervisor.start} once; {@link Supervisor.pause}/{@link Supervisor.resume} at will;
 * {@link Supervisor.drain} (memoized) stops it gracefully; {@link Supervisor.stopped} resolves when it has
 * stopped for any reason (drain, message limit, broken pool). {@link Supervisor.events} reports what it does.
 */
export class Supervisor {
  /** What the supervisor does, as it does it: for metrics. */
  readonly events = new SupervisorEmitter();
  readonly #options: SupervisorOptions;
  readonly #capacity: Capacity;
  readonly #acker: Acker;
  readonly #dispatcher: Dispatcher;
  readonly #pollers: Poller[];
  #state: SupervisorHealth["state"] = "starting";
  readonly #crashBackoffs = new Map<string, Backoff>();
  #watchdog: NodeJS.Timeout | undefined;
  /** When the watchdog last restarted each poller. */
  readonly #lastRestart = new Map<Poller, number>();
  #draining: Promise<StopReport> | undefined;
  readonly #stopped: Promise<StopReport>;
  #resolveStopped!: (report: StopReport) => void;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    const { config, logger, messageLimit } = options;
    this.#capacity = new Capacity(config.pool.maxInFlight, { budget: messageLimit });
    for (const target of options.targets) {
      const concurrency = target.queue.options.concurrency;
      if (concurrency !== undefined) this.#capacity.limitQueue(target.queue.name, concurrency);
    }
    this.#acker = new Acker(options.client, logger);
    this.#dispatcher = new Dispatcher({
      pool: options.pool,
      acker: this.#acker,
      capacity: this.#capacity,
      logger,
      events: this.events,
      defaultRetry: config.defaults.retry,
      onProcessed: (processed) => {
        if (messageLimit !== undefined && processed >= messageLimit) {
          void this.drain(`message limit of ${messageLimit} reached`);
        }
      },
    });
    const maxLanes = Math.max(1, Math.ceil(config.pool.maxInFlight / SQS_LIMITS.maxBatchEntries));
    this.#pollers = options.targets.map(
      (target) =>
        new Poller({
          target,
          client: options.client,
          capacity: this.#capacity,
          logger,
          events: this.events,
          waitTimeSeconds: config.defaults.waitTimeSeconds,
          errorBackoff: config.defaults.errorBackoff,
          idleBackoff: config.defaults.idleBackoff,
          maxLanes: Math.min(
            maxLanes,
            Math.ceil((target.queue.options.concurrency ?? Infinity) / SQS_LIMITS.maxBatchEntries),
          ),
          onMessages: (from, messages) => this.#dispatcher.accept(from, messages),
          onStrayMessages: (from, messages) => this.#dispatcher.giveBack(from, messages),
        }),
    );
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    this.events.on("settled", (queue, outcome, _durationMs, phase) => this.#watchCrashes(queue, outcome, phase));
  }

  /** A handler's `message.extendVisibility(seconds)`, relayed from its thread. */
  extendVisibility(messageId: string, seconds: number): Promise<boolean> {
    return this.#dispatcher.extendVisibility(messageId, seconds);
  }

  /** Crash backoff: holds a queue's pollers back after a handler thread died on one of its messages. */
  #watchCrashes(queue: string, outcome: string, phase: string | undefined): void {
    // Runs for every message: the common case (no crash) must stay a map look-up.
    let backoff = this.#crashBackoffs.get(queue);
    if (outcome === "ok") {
      backoff?.reset();
      return;
    }
    if (outcome !== "failed" || phase !== "crash") return;
    if (!backoff) this.#crashBackoffs.set(queue, (backoff = new Backoff(CRASH_BACKOFF)));
    const holdMs = backoff.next();
    for (const poller of this.#pollers) if (poller.target.fullName === queue) poller.holdOff(holdMs);
    this.#options.logger.warn("a handler crashed its thread; holding this queue back", {
      queue,
      crashes: backoff.attempt,
      holdMs,
    });
  }

  /**
   * The poll-liveness watchdog: a running poller silent for its long-poll wait plus `stallSeconds` (a hung
   * connection, or receives failing on and on) is logged, restarted, and counted, at most once per
   * `stallSeconds`. /healthz reads the same silence.
   */
  #checkPollers(): void {
    const now = Date.now();
    const limitMs = this.#options.config.stallSeconds * 1000;
    for (const poller of this.#pollers) {
      const health = poller.health(now);
      if (health.silentMs <= limitMs || now - (this.#lastRestart.get(poller) ?? 0) < limitMs) continue;
      this.#lastRestart.set(poller, now);
      poller.restart();
      this.events.emit("pollerRestarted", health.queue);
      this.#options.logger.warn("poller stalled; restarted it", {
        queue: health.queue,
        silentMs: health.silentMs,
        lastPollAt: health.lastPollAt,
        restarts: health.restarts + 1,
      });
    }
  }

  /** Resolves when the supervisor has stopped, for whatever reason. */
  get stopped(): Promise<StopReport> {
    return this.#stopped;
  }

  /** The queues being consumed. */
  get targets(): readonly PollTarget[] {
    return this.#options.targets;
  }

  /** The state of the supervisor and each poller. */
  health(now = Date.now()): SupervisorHealth {
    return {
      state: this.#state,
      inFlight: this.#dispatcher.inFlight,
      maxInFlight: this.#options.config.pool.maxInFlight,
      processed: this.#dispatcher.processed,
      pollers: this.#pollers.map((poller) => poller.health(now)),
    };
  }

  /** Starts every poller. Idempotent. */
  start(): void {
    if (this.#state !== "starting") return;
    this.#state = "running";
    for (const poller of this.#pollers) poller.start();
    this.#watchdog = setInterval(() => this.#checkPollers(), WATCHDOG_INTERVAL_MS);
    this.#watchdog.unref();
  }

  /** Ends idle backoff pauses on every queue. */
  wake(): void {
    for (const poller of this.#pollers) poller.wake();
  }

  /** Stops fetching new messages without exiting; running handlers finish. Returns false when not running. */
  pause(): boolean {
    if (this.#state !== "running") return false;
    this.#state = "paused";
    for (const poller of this.#pollers) poller.pause();
    this.#options.logger.info("paused: no new messages are fetched until resumed");
    return true;
  }

  /** Fetches again after {@link Supervisor.pause}. Returns false when not paused. */
  resume(): boolean {
    if (this.#state !== "paused") return false;
    this.#state = "running";
    for (const poller of this.#pollers) poller.resume();
    this.#options.logger.info("resumed");
    return true;
  }

  /**
   * Stops gracefully: no new receives, running handlers finish (up to `drainTimeoutMs`), long polls under
   * way return, messages received but not started go back at once, pending deletes are flushed, and the pool
   * closes. Memoized.
   */
  drain(reason: string): Promise<StopReport> {
    this.#draining ??= this.#drain(reason, 0);
    return this.#draining;
  }

  /** Called when a pool thread cannot load the receivers: stop, and exit non-zero. */
  fail(error: WorkerStartError): void {
    this.#draining ??= this.#drain(error.message, 1);
  }

  async #drain(reason: string, exitCode: 0 | 1): Promise<StopReport> {
    const { logger, config, pool } = this.#options;
    const dispatcher = this.#dispatcher;
    this.#state = "draining";
    clearInterval(this.#watchdog);
    logger.info("draining", { reason, inFlight: dispatcher.inFlight, drainTimeoutMs: config.drainTimeoutMs });
    dispatcher.beginDrain();
    for (const poller of this.#pollers) poller.stopReceiving();
    let interrupted = 0;
    const report = (): StopReport => ({ reason, exitCode, processed: dispatcher.processed, interrupted });
    try {
      if (!(await dispatcher.waitUntilIdle(config.drainTimeoutMs))) {
        exitCode = 1;
        interrupted = dispatcher.interrupt("sqsd is shutting down");
        logger.warn("drain timeout reached; aborted running handlers", { running: interrupted });
        if (!(await dispatcher.waitUntilIdle(ABORT_GRACE_MS))) {
          await pool.terminate();
          await dispatcher.waitUntilIdle(ABORT_GRACE_MS);
        }
      }
    } finally {
      const polling = this.#pollers.reduce((sum, poller) => sum + poller.receivesUnderWay, 0);
      if (polling > 0) {
        logger.info("waiting for long polls under way to return", {
          receives: polling,
          waitTimeSeconds: config.defaults.waitTimeSeconds,
        });
      }
      await this.#runEach([
        () => Promise.all(this.#pollers.map((poller) => poller.stop())),
        async () => dispatcher.releaseHeld(),
        () => this.#acker.flush(),
        () => pool.close(),
      ]);
      this.#state = "stopped";
      logger.info("stopped", { ...report() });
      this.#resolveStopped(report());
    }
    return report();
  }

  /** Runs cleanup steps one after another; one failing does not skip the rest. */
  async #runEach(steps: readonly (() => Promise<unknown>)[]): Promise<void> {
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        this.#options.logger.error("shutdown step failed", { error: errorSummary(error) });
      }
    }
  }
}
