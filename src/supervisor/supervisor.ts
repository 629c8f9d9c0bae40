import type { ResolvedConfig } from "../config/types.js";
import type { WorkerStartError } from "../pool-errors.js";
import { SQS_LIMITS } from "../limits.js";
import type { Logger } from "../logging.js";
import { QueueGates } from "../rate-limit/queue-gates.js";
import { redisLimiters } from "../rate-limit/redis-store.js";
import type { SqsHotPath } from "../sqs/hot-path.js";
import { Acker } from "./acker.js";
import { Dispatcher } from "./dispatcher.js";
import { SupervisorEmitter } from "./events.js";
import type { HandlerPool } from "../pool/pool.js";
import { Poller } from "./poller.js";
import { Scheduler } from "./scheduler.js";
import { drainSupervisor } from "./supervisor-drain.js";
import type { StopReport, SupervisorHealth } from "./supervisor-health.js";
import type { PollTarget } from "./target.js";
import { VisibilityKeeper } from "./visibility-keeper.js";
import { Watchdog } from "./watchdog.js";

/** Everything the supervisor runs with; the run command builds it. */
export interface SupervisorOptions {
  readonly config: ResolvedConfig;
  readonly targets: readonly PollTarget[];
  /** The path deletes and visibility changes take. */
  readonly sqs: SqsHotPath;
  /** The path receives take: sized for every queue's long polls, so that acks never queue behind them. @defaultValue `sqs` */
  readonly receiveSqs?: SqsHotPath;
  readonly pool: HandlerPool;
  readonly logger: Logger;
  /** Stop after this many messages were processed (`--message-limit`). @defaultValue no limit */
  readonly messageLimit?: number | undefined;
  /**
   * The last known count of visible messages in a queue and when it was read (from the status cache), for
   * the stall check. It never reads SQS itself.
   * @defaultValue unknown
   */
  readonly visibleMessages?: (fullName: string) => { readonly count: number; readonly asOf: number } | undefined;
  /** Receivers' rate limits and `RateLimited` pauses (with the shared store, when configured). @defaultValue in-process only */
  readonly gates?: QueueGates;
}

export type { StopReport, SupervisorHealth } from "./supervisor-health.js";

export { DRAIN_FLUSH_LIMIT_MS } from "./supervisor-drain.js";

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
  readonly #acker: Acker;
  readonly #scheduler: Scheduler;
  readonly #dispatcher: Dispatcher;
  readonly #pollers: Poller[];
  /** Each poller by its queue's full name: the watchdog looks a thousand of them up every second. */
  readonly #pollerOf: ReadonlyMap<string, Poller>;
  readonly #gates: QueueGates;
  #state: SupervisorHealth["state"] = "starting";
  readonly #watchdog: Watchdog;
  #draining: Promise<StopReport> | undefined;
  /** Queues paused one by one (full names), apart from the daemon-wide pause: their pollers fetch nothing. */
  readonly #pausedQueues = new Set<string>();
  readonly #stopped: Promise<StopReport>;
  #resolveStopped!: (report: StopReport) => void;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    const { config, logger, messageLimit } = options;
    const store = config.rateLimitStore;
    this.#gates = options.gates ?? new QueueGates(store ? redisLimiters(store, logger) : undefined);
    this.#acker = new Acker(options.sqs, logger);
    this.#dispatcher = new Dispatcher({
      pool: options.pool,
      acker: this.#acker,
      logger,
      events: this.events,
      defaultRetry: config.defaults.retry,
    });
    this.#scheduler = new Scheduler(options.targets, {
      maxInFlight: config.pool.maxInFlight,
      prefetch: config.pool.prefetch,
      maxBuffered: config.pool.maxBuffered,
      messageLimit,
      keeper: new VisibilityKeeper(this.#acker, logger),
      start: (deliveries) => this.#dispatcher.run(deliveries),
      release: (deliveries, why) => this.#dispatcher.release(deliveries, why),
      onProcessed: (processed) => {
        if (messageLimit !== undefined && processed >= messageLimit) {
          void this.drain(`message limit of ${messageLimit} reached`);
        }
      },
    });
    this.#pollers = options.targets.map(
      (target) =>
        new Poller({
          target,
          sqs: options.receiveSqs ?? options.sqs,
          room: this.#scheduler.room(target),
          logger,
          events: this.events,
          waitTimeSeconds: config.defaults.waitTimeSeconds,
          errorBackoff: config.defaults.errorBackoff,
          idleBackoff: config.defaults.idleBackoff,
          maxLanes: maxLanes(config.pool.prefetch),
          gate: this.#gates.gateFor(target.queue),
        }),
    );
    this.#pollerOf = new Map(this.#pollers.map((poller) => [poller.target.fullName, poller]));
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    // A handler that crashed its thread holds its queue's poller back (a crash hold, beside its other holds).
    this.events.on("settled", (queue, outcome, _durationMs, phase) =>
      this.#pollerOf.get(queue)?.settled(outcome, phase),
    );
    this.events.on("rateLimited", (queue, seconds) => {
      const target = this.#pollerOf.get(queue)?.target;
      if (target) this.#gates.gateFor(target.queue).pause(seconds);
    });
    this.#watchdog = new Watchdog({
      pollers: this.#pollers,
      pollerOf: this.#pollerOf,
      scheduler: this.#scheduler,
      stallSeconds: config.stallSeconds,
      waitTimeSeconds: config.defaults.waitTimeSeconds,
      maxInFlight: config.pool.maxInFlight,
      running: () => this.#state === "running",
      queuePaused: (fullName) => this.#pausedQueues.has(fullName),
      visibleMessages: options.visibleMessages,
      logger,
      events: this.events,
    });
  }

  /** A handler's `message.extendVisibility(seconds)`, relayed from its thread. */
  async extendVisibility(deliveryId: number, seconds: number): Promise<boolean> {
    const delivery = this.#scheduler.find(deliveryId);
    return delivery?.state === "running" ? delivery.extendVisibility(seconds) : false;
  }

  /** Resolves when the supervisor has stopped, for whatever reason. */
  get stopped(): Promise<StopReport> {
    return this.#stopped;
  }

  /** The queues being consumed. */
  get targets(): readonly PollTarget[] {
    return this.#options.targets;
  }

  /** Messages held now: buffered, running, or waiting to go back. Cheaper than {@link Supervisor.health}. */
  get held(): number {
    return this.#scheduler.held;
  }

  /** Messages processed so far (what `--message-limit` counts). */
  get processed(): number {
    return this.#scheduler.processed;
  }

  /** The state of the supervisor, each poller and each queue. */
  health(now = Date.now()): SupervisorHealth {
    const queues = this.#scheduler.loads(now);
    return {
      state: this.#state,
      inFlight: this.#scheduler.running,
      maxInFlight: this.#options.config.pool.maxInFlight,
      buffered: this.#scheduler.buffered,
      processed: this.#scheduler.processed,
      pollers: this.#pollers.map((poller) => poller.health(now)),
      queues,
      starved: this.#watchdog.starved(queues, now),
    };
  }

  /** Starts every poller. Idempotent. */
  start(): void {
    if (this.#state !== "starting") return;
    this.#state = "running";
    for (const poller of this.#pollers) poller.start();
    this.#watchdog.start();
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
    this.#scheduler.pause();
    this.#options.logger.info("paused: no handler starts and no message is fetched until resumed");
    return true;
  }

  /** Fetches again after {@link Supervisor.pause}. Returns false when not paused. */
  resume(): boolean {
    if (this.#state !== "paused") return false;
    this.#state = "running";
    this.#scheduler.resume();
    for (const poller of this.#pollers) if (!this.#pausedQueues.has(poller.target.fullName)) poller.resume();
    this.#options.logger.info("resumed");
    return true;
  }

  /**
   * Stops fetching from one queue (by full name) without exiting; its running and already buffered messages
   * still run. Survives a daemon-wide pause and resume. Returns false for an unknown or already paused queue,
   * and before start or while draining.
   */
  pauseQueue(fullName: string): boolean {
    const poller = this.#pollerOf.get(fullName);
    // Only once polling has started (a poller paused before its start would start anyway), and not while stopping.
    const live = this.#state === "running" || this.#state === "paused";
    if (!poller || !live || this.#pausedQueues.has(fullName)) return false;
    this.#pausedQueues.add(fullName);
    poller.pause();
    this.#options.logger.info("queue paused: no message is fetched from it until resumed", { queue: fullName });
    return true;
  }

  /** Fetches from a queue again after {@link Supervisor.pauseQueue}. Returns false when it was not paused. */
  resumeQueue(fullName: string): boolean {
    const poller = this.#pollerOf.get(fullName);
    if (!poller || !this.#pausedQueues.delete(fullName)) return false;
    // Under a daemon-wide pause the poller stays paused; the daemon's resume restarts it.
    if (this.#state === "running") poller.resume();
    this.#options.logger.info("queue resumed", { queue: fullName });
    return true;
  }

  /** The queues paused one by one with {@link Supervisor.pauseQueue} (full names). */
  get pausedQueues(): ReadonlySet<string> {
    return this.#pausedQueues;
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
    this.#state = "draining";
    this.#watchdog.stop();
    this.events.emit("draining", reason);
    logger.info("draining", {
      reason,
      inFlight: this.#scheduler.running,
      buffered: this.#scheduler.buffered,
      drainTimeoutMs: config.drainTimeoutMs,
    });
    const { interrupted } = await drainSupervisor({
      config,
      logger,
      pool,
      pollers: this.#pollers,
      scheduler: this.#scheduler,
      dispatcher: this.#dispatcher,
      acker: this.#acker,
    });
    const report: StopReport = {
      reason,
      exitCode: interrupted > 0 ? 1 : exitCode,
      processed: this.#scheduler.processed,
      interrupted,
    };
    await this.#gates.close();
    this.#state = "stopped";
    logger.info("stopped", { ...report });
    this.#resolveStopped(report);
    return report;
  }
}

/** Receives one queue may have waiting at once: enough full batches to fill its buffer, at least one. */
export function maxLanes(prefetch: number): number {
  return Math.max(1, Math.ceil(prefetch / SQS_LIMITS.maxBatchEntries));
}
