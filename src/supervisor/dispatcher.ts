import type { RetryOptions } from "../config/types.js";
import type { Logger } from "../logging.js";
import type { Outcome } from "../pool/protocol.js";
import type { HandlerPool, RunningHandler } from "../pool/pool.js";
import type { Acker } from "./acker.js";
import type { Delivery } from "./delivery.js";
import type { SupervisorEmitter } from "./events.js";
import { toWireMessage } from "./received.js";
import type { PollTarget } from "./target.js";
import { failureOf, settle, settleReport, type RunEnd } from "./settlement.js";
import { RunPacking } from "./run-packing.js";
import { PayloadCleaner } from "./payload-cleaner.js";

/** After `timeoutMs`, how long a handler gets between its signal aborting and its thread being ended. */
const TIMEOUT_GRACE_MS = 1_000;

/** Stands in for a missing outcome, which would be a protocol bug: the message is treated as failed. */
const NO_OUTCOME: Outcome = {
  kind: "failed",
  phase: "handler",
  error: { name: "Error", message: "the pool thread returned no outcome", stack: undefined, code: undefined },
  durationMs: 0,
};

/** What the dispatcher works with; the supervisor owns all of it. */
export interface DispatcherOptions {
  readonly pool: HandlerPool;
  readonly acker: Acker;
  readonly logger: Logger;
  readonly events: SupervisorEmitter;
  /** Retry delays for queues that set none (config `defaults.retry`). */
  readonly defaultRetry: RetryOptions | false;
  /** Deletes offloaded bodies after their messages; the supervisor flushes it in a drain. @defaultValue a new one */
  readonly payloadCleaner?: PayloadCleaner;
}

/**
 * Runs the deliveries the scheduler starts on the pool, and applies each run's outcome to its message in SQS
 * (delete, change visibility, leave, or release) through the acker. Every delivery it runs ends in
 * {@link Delivery.finish}, which gives its slot back to the scheduler.
 */
export class Dispatcher {
  readonly #options: DispatcherOptions;
  /**
   * Aborted when a drain gives up waiting for running handlers. From then on a handler that fails or whose
   * thread ends was interrupted, not broken: its message is released for another consumer, not retried later.
   */
  readonly #interrupting = new AbortController();
  /** Runs started in this turn of the event loop, by queue, to be posted together (see {@link RunPacking}). */
  readonly #starting = new Map<PollTarget, Delivery[][]>();
  readonly #packing = new RunPacking();

  readonly #payloadCleaner: PayloadCleaner;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#payloadCleaner = options.payloadCleaner ?? new PayloadCleaner(options.logger, options.events);
  }

  /** Starts one handler run for these deliveries (one, or a batch); their slots are already taken. */
  run(deliveries: readonly Delivery[]): void {
    const first = deliveries[0];
    if (!first) return;
    if (this.#interrupting.signal.aborted) this.#tooLateToStart(deliveries, false);
    else if (first.target.queue.options.deleteOnStart) void this.#deleteThenRun(deliveries);
    else this.#enqueue(deliveries);
  }

  /**
   * The drain timed out before these could start: nothing ran, so they go straight back; unless they were
   * deleted on start already, in which case at-most-once makes this a loss, and the log says so.
   */
  #tooLateToStart(deliveries: readonly Delivery[], deleted: boolean): void {
    if (deleted) {
      for (const delivery of deliveries) {
        this.#options.logger.error("message lost: deleted on start, and the drain timed out before it ran", {
          ...delivery.logFields(),
          outcome: "interrupted",
        });
      }
    } else {
      this.release(deliveries, "gave back messages not started before the drain timeout");
    }
    for (const delivery of deliveries) delivery.finish({ counted: false, succeeded: false });
  }

  /** Makes deliveries that never started receivable again at once (visibility 0). */
  release(deliveries: readonly Delivery[], why: string): void {
    const first = deliveries[0];
    if (!first) return;
    for (const delivery of deliveries) void this.#options.acker.changeVisibility(delivery.ack, 0);
    this.#options.logger.info(why, {
      queue: first.target.fullName,
      count: deliveries.length,
      ...(first.groupId === "" ? {} : { groupId: first.groupId }),
    });
  }

  /**
   * Asks every running handler to stop (its `message.signal` aborts); their messages will be released. The
   * scheduler's queues own which deliveries run; returns how many did.
   */
  interrupt(reason: string, running: readonly Delivery[]): number {
    this.#interrupting.abort(new Error(reason));
    for (const delivery of running) delivery.handler?.abort(reason);
    return running.length;
  }

  /** At-most-once: the message is deleted before its handler runs, and runs only if the delete succeeded. */
  async #deleteThenRun(deliveries: readonly Delivery[]): Promise<void> {
    const deleted = await Promise.all(deliveries.map((delivery) => this.#delete(delivery)));
    const runnable = deliveries.filter((delivery, index) => {
      if (deleted[index] && this.#interrupting.signal.aborted) {
        this.#tooLateToStart([delivery], true);
        return false;
      }
      if (deleted[index]) {
        delivery.stopHeartbeat();
        return true;
      }
      this.#options.logger.warn("not started: deleteOnStart could not delete the message", delivery.logFields());
      delivery.finish({ counted: false, succeeded: false });
      return false;
    });
    if (runnable.length > 0) this.#enqueue(runnable);
  }

  /**
   * Queues one run to be posted at the end of this turn. The scheduler starts runs one at a time as it hands
   * out slots; those of one queue started together then go to a thread together.
   */
  #enqueue(deliveries: readonly Delivery[]): void {
    const { target } = deliveries[0]!;
    if (this.#starting.size === 0) queueMicrotask(() => this.#postStarting());
    const runs = this.#starting.get(target);
    if (runs) runs.push([...deliveries]);
    else this.#starting.set(target, [[...deliveries]]);
  }

  #postStarting(): void {
    const starting = [...this.#starting];
    this.#starting.clear();
    for (const [target, runs] of starting) {
      if (this.#interrupting.signal.aborted) {
        this.#tooLateToStart(runs.flat(), target.queue.options.deleteOnStart === true);
        continue;
      }
      const size = this.#packing.runsPerTask(target, this.#options.pool.maxRunsPerTask);
      for (let index = 0; index < runs.length; index += size) this.#post(target, runs.slice(index, index + size));
    }
  }

  /** Posts runs of one queue as one task, and settles each run's deliveries as its outcome comes. */
  #post(target: PollTarget, runs: readonly (readonly Delivery[])[]): void {
    const handlers = this.#options.pool.runAll({
      queue: target.queue.name,
      suffix: target.suffix,
      fullName: target.fullName,
      visibilityTimeoutSeconds: target.visibilityTimeoutSeconds,
      runs: runs.map((deliveries) => ({
        messages: deliveries.map((delivery) => ({
          ...toWireMessage(delivery.message, delivery.id),
          trace: delivery.trace.wire(),
        })),
      })),
    });
    runs.forEach((deliveries, index) => void this.#await(deliveries, handlers[index]!));
  }

  /** Watches one run: its timeout, then its outcome, which settles each of its deliveries. */
  async #await(deliveries: readonly Delivery[], handler: RunningHandler): Promise<void> {
    const { target } = deliveries[0]!;
    const timeoutMs = target.queue.options.timeoutMs;
    for (const delivery of deliveries) {
      delivery.handler = handler;
      if (timeoutMs !== undefined) {
        delivery.startTimeout(timeoutMs, handler.startedAt, () => void this.#timeOut(deliveries, handler, timeoutMs));
      }
    }
    let ends: readonly RunEnd[];
    try {
      const outcomes = await handler.outcome;
      ends = deliveries.map((_, index) => outcomes[index] ?? NO_OUTCOME);
      deliveries.forEach((delivery, index) => delivery.trace.processed(outcomes[index]?.processSpan));
      this.#packing.record(target, Math.max(0, ...outcomes.map((outcome) => outcome.durationMs)));
    } catch (error) {
      ends = deliveries.map(() => ({ kind: "crashed", error }));
      // A run that hung or crashed its thread counts too, by how long it ran: a queue whose quick handler
      // turns slow must stop packing, or each thread it ends takes packed runs with it.
      const startedAt = handler.startedAt();
      if (startedAt !== undefined) this.#packing.record(target, Date.now() - startedAt);
    }
    deliveries.forEach((delivery, index) => this.#settle(delivery, ends[index]!));
  }

  /** `timeoutMs` passed: abort the handler's signal; a second later, end its thread if it is still running. */
  async #timeOut(deliveries: readonly Delivery[], handler: RunningHandler, timeoutMs: number): Promise<void> {
    const running = deliveries.filter((delivery) => delivery.state === "running" && !delivery.timedOut);
    const first = running[0];
    if (!first) return;
    for (const delivery of running) delivery.timedOut = true;
    this.#options.logger.warn("handler timed out; aborting it", { ...first.logFields(), timeoutMs });
    handler.abort(`handler timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_GRACE_MS));
    if (!running.some((delivery) => delivery.state === "running" && delivery.handler === handler)) return;
    // A handler that ignores its signal, or blocks its thread's event loop, only stops with its thread.
    const ended = await handler.terminateThread();
    this.#options.logger.warn(
      ended
        ? "handler did not stop after its signal; its thread was ended"
        : "handler did not stop, and its thread is unknown",
      { ...first.logFields(), timeoutMs },
    );
  }

  /** Carries out what {@link settle} decided for a delivery whose run is over. */
  #settle(delivery: Delivery, end: RunEnd): void {
    const settlement = settle(end, {
      options: delivery.target.queue.options,
      defaultRetry: this.#options.defaultRetry,
      receiveCount: delivery.receiveCount,
      timedOut: delivery.timedOut,
      interrupting: this.#interrupting.signal.aborted,
    });
    const { logger } = this.#options;
    for (const line of settlement.logs) {
      // A debug line per message: skip building its fields when the level is off.
      if (logger.isLevelEnabled(line.level))
        logger.log(line.level, line.message, { ...delivery.logFields(), ...line.fields });
    }
    const { action } = settlement;
    const settled = delivery.trace.startSettle(settleReport(end, settlement));
    const messageDeleted = action.kind === "delete" ? this.#delete(delivery) : undefined;
    if (messageDeleted) void messageDeleted.then(settled);
    else if (action.kind === "changeVisibility")
      void this.#options.acker
        .changeVisibility({ ...delivery.ack, validUntil: delivery.validUntil }, action.seconds)
        .then(settled);
    else if (action.kind === "release") void this.#options.acker.changeVisibility(delivery.ack, 0).then(settled);
    else settled(true);
    if (end.kind !== "crashed")
      this.#payloadCleaner.settled(delivery.target, end, messageDeleted, () => delivery.ownsReceipt);
    this.#options.events.emit(
      "settled",
      delivery.target.fullName,
      settlement.settledAs,
      settlement.durationMs,
      settlement.phase,
    );
    if (settlement.settledAs === "failed")
      this.#options.events.emit("failed", delivery.target.fullName, failureOf(end));
    else if (end.kind === "ok" && end.duplicate) this.#options.events.emit("duplicate", delivery.target.fullName);
    // Before the slot comes back: the queue's pause is in place before anything can wake its poller.
    if (end.kind === "restartLater" && end.rateLimitedSeconds !== undefined)
      this.#options.events.emit("rateLimited", delivery.target.fullName, end.rateLimitedSeconds);
    delivery.finish({ counted: settlement.counted, succeeded: settlement.settledAs === "ok" });
  }

  /** Flushes the object deletes of large payloads, for at most `timeoutMs`; the drain calls it after the acker's flush. */
  flushPayloadDeletes(timeoutMs?: number): Promise<void> {
    return this.#payloadCleaner.flush(timeoutMs);
  }

  async #delete(delivery: Delivery): Promise<boolean> {
    const deleted = await this.#options.acker.delete({ ...delivery.ack, validUntil: delivery.validUntil });
    if (deleted) this.#options.events.emit("deleted", delivery.target.fullName);
    return deleted;
  }
}
