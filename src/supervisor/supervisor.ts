import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { MessageAttribute } from "../codecs/codec.js";
import type { ResolvedConfig } from "../config/types.js";
import { errorSummary, type WorkerStartError } from "../errors.js";
import { SQS_LIMITS } from "../limits.js";
import type { Logger } from "../logging.js";
import type { Outcome, WireMessage } from "../protocol.js";
import { Acker, type AckTarget } from "./acker.js";
import { Capacity } from "./capacity.js";
import type { HandlerPool, RunningTask } from "./pool.js";
import { Poller, type PollTarget } from "./poller.js";

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

interface InFlight {
  readonly target: PollTarget;
  readonly message: Message;
  readonly ack: AckTarget;
  readonly receiveCount: number;
  task: RunningTask | undefined;
}

/** Stands in for a missing outcome, which would be a protocol bug: the message is treated as failed. */
const NO_OUTCOME: Outcome = {
  kind: "failed",
  phase: "handler",
  error: { name: "Error", message: "the pool thread returned no outcome", stack: undefined, code: undefined },
  durationMs: 0,
};

/** After the drain timeout, how long handlers get between their signal aborting and their thread ending. */
const ABORT_GRACE_MS = 2_000;

/**
 * The daemon's core: one poller per queue and suffix, all on this event loop, feeding one worker-thread pool;
 * the outcome of each handler run decides what happens to its message in SQS.
 *
 * Lifecycle: {@link Supervisor.start} once; {@link Supervisor.drain} (memoized) stops it gracefully;
 * {@link Supervisor.stopped} resolves when it has stopped for any reason (drain, message limit, broken pool).
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #capacity: Capacity;
  readonly #acker: Acker;
  readonly #pollers: Poller[];
  readonly #inFlight = new Set<InFlight>();
  /**
   * Aborted when a drain gives up waiting for running handlers. From then on a handler that fails or whose
   * thread ends was interrupted, not broken: its message is released for another consumer, not retried later.
   */
  readonly #interrupting = new AbortController();
  readonly #settledListeners = new Set<() => void>();
  /**
   * Releases (visibility 0) held back while a drain still has receives under way. Released at once, a message
   * could be picked up again by one of this daemon's own long polls, handed back, picked up again, each round
   * adding to its receive count. Held back, they are released once the pollers have stopped, moments before
   * the process exits.
   */
  #heldReleases: AckTarget[] | undefined;
  #processed = 0;
  #started = false;
  #draining: Promise<StopReport> | undefined;
  readonly #stopped: Promise<StopReport>;
  #resolveStopped!: (report: StopReport) => void;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    const { config } = options;
    this.#capacity = new Capacity(config.pool.maxInFlight, { budget: options.messageLimit });
    for (const target of options.targets) {
      const concurrency = target.queue.options.concurrency;
      if (concurrency !== undefined) this.#capacity.limitQueue(target.queue.name, concurrency);
    }
    this.#acker = new Acker(options.client, options.logger);
    const maxLanes = Math.max(1, Math.ceil(config.pool.maxInFlight / SQS_LIMITS.maxBatchEntries));
    this.#pollers = options.targets.map(
      (target) =>
        new Poller({
          target,
          client: options.client,
          capacity: this.#capacity,
          logger: options.logger,
          waitTimeSeconds: config.defaults.waitTimeSeconds,
          errorBackoff: config.defaults.errorBackoff,
          idleBackoff: config.defaults.idleBackoff,
          maxLanes: Math.min(
            maxLanes,
            Math.ceil((target.queue.options.concurrency ?? Infinity) / SQS_LIMITS.maxBatchEntries),
          ),
          onMessages: (from, messages) => this.#accept(from, messages),
          onStrayMessages: (from, messages) => this.#giveBack(from, messages),
        }),
    );
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
  }

  /** Resolves when the supervisor has stopped, for whatever reason. */
  get stopped(): Promise<StopReport> {
    return this.#stopped;
  }

  /** Messages whose handlers have finished. */
  get processed(): number {
    return this.#processed;
  }

  /** Handlers running now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The pollers, for health checks and wake-ups. */
  get pollers(): readonly Poller[] {
    return this.#pollers;
  }

  /** Starts every poller. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const poller of this.#pollers) poller.start();
  }

  /** Ends idle backoff pauses on every queue. */
  wake(): void {
    for (const poller of this.#pollers) poller.wake();
  }

  /**
   * Stops gracefully: no new receives, running handlers finish (up to `drainTimeoutMs`), messages that were
   * received but not started go back at once, pending deletes are flushed, and the pool closes. Memoized.
   */
  drain(reason: string): Promise<StopReport> {
    this.#draining ??= this.#drain(reason, 0);
    return this.#draining;
  }

  /** Called by the pool when a thread cannot load the receivers: stop, and exit non-zero. */
  fail(error: WorkerStartError): void {
    this.#draining ??= this.#drain(error.message, 1);
  }

  async #drain(reason: string, exitCode: 0 | 1): Promise<StopReport> {
    const { logger, config, pool } = this.#options;
    logger.info("draining", { reason, inFlight: this.#inFlight.size, drainTimeoutMs: config.drainTimeoutMs });
    this.#heldReleases = [];
    for (const poller of this.#pollers) poller.stopReceiving();
    let interrupted = 0;
    const report = (): StopReport => ({ reason, exitCode, processed: this.#processed, interrupted });
    try {
      if (!(await this.#waitForHandlers(config.drainTimeoutMs))) {
        interrupted = this.#inFlight.size;
        exitCode = 1;
        logger.warn("drain timeout reached; aborting running handlers", { running: interrupted });
        this.#interrupting.abort(new Error("drain timeout"));
        for (const entry of this.#inFlight) entry.task?.abort("sqsd is shutting down");
        if (!(await this.#waitForHandlers(ABORT_GRACE_MS))) {
          await pool.terminate();
          await this.#waitForHandlers(ABORT_GRACE_MS);
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
        async () => {
          const held = this.#heldReleases ?? [];
          this.#heldReleases = undefined;
          for (const ack of held) this.#release(ack);
        },
        () => this.#acker.flush(),
        () => pool.close(),
      ]);
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

  /** True once no handler is running; false if `timeoutMs` passed first. */
  async #waitForHandlers(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight.size === 0) return true;
    const deadline = AbortSignal.timeout(timeoutMs);
    while (this.#inFlight.size > 0 && !deadline.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#settledListeners.delete(done);
          deadline.removeEventListener("abort", done);
          resolve();
        };
        this.#settledListeners.add(done);
        deadline.addEventListener("abort", done, { once: true });
      });
    }
    return this.#inFlight.size === 0;
  }

  #accept(target: PollTarget, messages: readonly Message[]): void {
    const entries = messages.map((message) => this.#track(target, message));
    if (target.queue.options.deleteOnStart) void this.#deleteThenRun(entries);
    else this.#dispatch(entries);
  }

  #track(target: PollTarget, message: Message): InFlight {
    const entry: InFlight = {
      target,
      message,
      ack: { queueUrl: target.url, messageId: message.MessageId ?? "", receiptHandle: message.ReceiptHandle ?? "" },
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? "1"),
      task: undefined,
    };
    this.#inFlight.add(entry);
    return entry;
  }

  /** At-most-once: the message is deleted before its handler runs, and runs only if the delete succeeded. */
  async #deleteThenRun(entries: readonly InFlight[]): Promise<void> {
    const deleted = await Promise.all(entries.map((entry) => this.#acker.delete(entry.ack)));
    const runnable = entries.filter((entry, index) => {
      if (deleted[index]) return true;
      this.#options.logger.warn("not started: deleteOnStart could not delete the message", this.#fields(entry));
      this.#finish(entry, { counted: false, refund: true });
      return false;
    });
    this.#dispatch(runnable);
  }

  /** Starts handler runs for messages of one receive: one per message, or one per batch for batch handlers. */
  #dispatch(entries: readonly InFlight[]): void {
    const handler = entries[0]?.target.queue.handler;
    const size = handler?.kind === "batch" ? handler.batchSize : 1;
    for (let start = 0; start < entries.length; start += size) this.#run(entries.slice(start, start + size));
  }

  #run(entries: readonly InFlight[]): void {
    const first = entries[0];
    if (!first) return;
    if (this.#interrupting.signal.aborted) {
      this.#giveBack(
        first.target,
        entries.map((entry) => entry.message),
      );
      for (const entry of entries) this.#finish(entry, { counted: false, refund: true });
      return;
    }
    const task = this.#options.pool.run({
      queue: first.target.queue.name,
      suffix: first.target.suffix,
      fullName: first.target.fullName,
      messages: entries.map((entry) => toWireMessage(entry.message)),
    });
    for (const entry of entries) entry.task = task;
    task.outcome.then(
      (outcomes) => entries.forEach((entry, index) => this.#settle(entry, outcomes[index] ?? NO_OUTCOME)),
      (error: unknown) => entries.forEach((entry) => this.#settleCrash(entry, error)),
    );
  }

  #settle(entry: InFlight, outcome: Outcome): void {
    if (outcome.kind === "failed" && this.#interrupting.signal.aborted) {
      this.#releaseInterrupted(entry);
      return;
    }
    const { logger } = this.#options;
    const { onError, deleteOnStart } = entry.target.queue.options;
    const fields = { ...this.#fields(entry), durationMs: "durationMs" in outcome ? outcome.durationMs : undefined };
    switch (outcome.kind) {
      case "ok":
        // Debug, not info: at production rates a line per message costs more in log ingestion than in SQS.
        logger.debug("message processed", { ...fields, outcome: "ok" });
        if (!deleteOnStart) void this.#acker.delete(entry.ack);
        break;
      case "restartLater":
        logger.info("message left for later (RestartLater)", {
          ...fields,
          outcome: "restartLater",
          reason: outcome.reason,
          delaySeconds: outcome.delaySeconds,
        });
        if (deleteOnStart)
          logger.warn("RestartLater has no effect with deleteOnStart: the message was already deleted", fields);
        else if (outcome.delaySeconds !== undefined) void this.#acker.changeVisibility(entry.ack, outcome.delaySeconds);
        break;
      case "failed": {
        const failure = {
          ...fields,
          outcome: "failed",
          phase: outcome.phase,
          onError: onError ?? "retry",
          error: `${outcome.error.name}: ${outcome.error.message}`,
        };
        // A decode failure is about the message, not the code: its stack says nothing, and the body is
        // never logged (it can hold personal data).
        if (outcome.phase === "decode")
          logger.error("message could not be decoded", { ...failure, codec: outcome.codec });
        else logger.error(`${outcome.phase} failed`, { ...failure, stack: outcome.error.stack });
        if (onError === "delete" && !deleteOnStart) void this.#acker.delete(entry.ack);
        break;
      }
      case "broken":
        this.#release(entry.ack);
        this.#finish(entry, { counted: false, refund: true });
        return;
    }
    this.#finish(entry, { counted: true, refund: false });
  }

  #settleCrash(entry: InFlight, error: unknown): void {
    if (this.#interrupting.signal.aborted) {
      this.#releaseInterrupted(entry);
      return;
    }
    this.#options.logger.error("handler thread died", {
      ...this.#fields(entry),
      outcome: "failed",
      phase: "crash",
      error: errorSummary(error),
    });
    if (entry.target.queue.options.onError === "delete" && !entry.target.queue.options.deleteOnStart) {
      void this.#acker.delete(entry.ack);
    }
    this.#finish(entry, { counted: true, refund: false });
  }

  /** A handler stopped by the drain timeout did not complete: its message goes back at once. */
  #releaseInterrupted(entry: InFlight): void {
    this.#options.logger.warn("handler interrupted by shutdown; message released", {
      ...this.#fields(entry),
      outcome: "interrupted",
    });
    if (!entry.target.queue.options.deleteOnStart) this.#release(entry.ack);
    this.#finish(entry, { counted: false, refund: false });
  }

  #finish(entry: InFlight, how: { counted: boolean; refund: boolean }): void {
    this.#inFlight.delete(entry);
    if (how.refund) this.#capacity.refund(entry.target.queue.name, 1);
    else this.#capacity.release(entry.target.queue.name, 1);
    if (how.counted) this.#processed += 1;
    for (const listener of [...this.#settledListeners]) listener();
    const limit = this.#options.messageLimit;
    if (limit !== undefined && this.#processed >= limit) void this.drain(`message limit of ${limit} reached`);
  }

  /** Makes messages that were received but never started receivable again at once. */
  #giveBack(target: PollTarget, messages: readonly Message[]): void {
    for (const message of messages) {
      this.#release({
        queueUrl: target.url,
        messageId: message.MessageId ?? "",
        receiptHandle: message.ReceiptHandle ?? "",
      });
    }
    this.#options.logger.info("gave back messages received during shutdown", {
      queue: target.fullName,
      count: messages.length,
    });
  }

  /** Makes a message receivable again (visibility 0), after the pollers have stopped if a drain is under way. */
  #release(ack: AckTarget): void {
    if (this.#heldReleases) this.#heldReleases.push(ack);
    else void this.#acker.changeVisibility(ack, 0);
  }

  #fields(entry: InFlight): Record<string, unknown> {
    return { queue: entry.target.fullName, messageId: entry.ack.messageId, receiveCount: entry.receiveCount };
  }
}

function toWireMessage(message: Message): WireMessage {
  const messageAttributes: Record<string, MessageAttribute> = {};
  for (const [key, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[key] = {
      dataType: value.DataType ?? "String",
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined ? {} : { binaryValue: value.BinaryValue }),
    };
  }
  return {
    id: message.MessageId ?? "",
    body: message.Body ?? "",
    attributes: { ...(message.Attributes as Record<string, string> | undefined) },
    messageAttributes,
  };
}
