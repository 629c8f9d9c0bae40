import type { Message } from "@aws-sdk/client-sqs";
import type { MessageAttribute } from "../codecs/codec.js";
import { errorSummary } from "../errors.js";
import type { Logger } from "../logging.js";
import type { Outcome, WireMessage } from "../protocol.js";
import type { Acker, AckTarget } from "./acker.js";
import type { Capacity } from "./capacity.js";
import type { SupervisorEmitter } from "./events.js";
import type { HandlerPool, RunningTask } from "./pool.js";
import type { PollTarget } from "./poller.js";

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

/** What the dispatcher works with; the supervisor owns all of it. */
export interface DispatcherOptions {
  readonly pool: HandlerPool;
  readonly acker: Acker;
  readonly capacity: Capacity;
  readonly logger: Logger;
  readonly events: SupervisorEmitter;
  /** Called after each message is done, with the count of processed messages so far. */
  readonly onProcessed: (processed: number) => void;
}

/**
 * Takes received messages from the pollers, starts their handler runs on the pool, and applies each outcome
 * to the message in SQS: delete, change visibility, leave, or release. Every message it holds occupies a
 * capacity slot until it is done.
 */
export class Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #inFlight = new Set<InFlight>();
  readonly #settledListeners = new Set<() => void>();
  /**
   * Aborted when a drain gives up waiting for running handlers. From then on a handler that fails or whose
   * thread ends was interrupted, not broken: its message is released for another consumer, not retried later.
   */
  readonly #interrupting = new AbortController();
  /**
   * Releases (visibility 0) held back while a drain still has receives under way. Released at once, a message
   * could be picked up again by one of this daemon's own long polls, handed back, picked up again, each round
   * adding to its receive count. Held back, they are released once the pollers have stopped.
   */
  #heldReleases: AckTarget[] | undefined;
  #processed = 0;

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  /** Messages held now (received and not yet done). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Messages whose handlers have finished. */
  get processed(): number {
    return this.#processed;
  }

  /** Takes ownership of messages a poller received; their capacity slots are already reserved. */
  accept(target: PollTarget, messages: readonly Message[]): void {
    this.#options.events.emit("received", target.fullName, messages.length);
    const entries = messages.map((message) => this.#track(target, message));
    if (target.queue.options.deleteOnStart) void this.#deleteThenRun(entries);
    else this.#dispatch(entries);
  }

  /** Makes messages that were received but never started receivable again at once. */
  giveBack(target: PollTarget, messages: readonly Message[]): void {
    for (const message of messages) this.#release(ackTarget(target, message));
    this.#options.logger.info("gave back messages received during shutdown", {
      queue: target.fullName,
      count: messages.length,
    });
  }

  /** From now until {@link Dispatcher.releaseHeld}, releases wait (a drain has receives under way). */
  holdReleases(): void {
    this.#heldReleases ??= [];
  }

  /** Releases what was held back; from now on releases go out at once. */
  releaseHeld(): void {
    const held = this.#heldReleases ?? [];
    this.#heldReleases = undefined;
    for (const ack of held) this.#release(ack);
  }

  /** Asks every running handler to stop (its `message.signal` aborts); their messages will be released. */
  interrupt(reason: string): number {
    this.#interrupting.abort(new Error(reason));
    for (const entry of this.#inFlight) entry.task?.abort(reason);
    return this.#inFlight.size;
  }

  /** True once no message is held; false if `timeoutMs` passed first. */
  async waitUntilIdle(timeoutMs: number): Promise<boolean> {
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

  #track(target: PollTarget, message: Message): InFlight {
    const entry: InFlight = {
      target,
      message,
      ack: ackTarget(target, message),
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? "1"),
      task: undefined,
    };
    this.#inFlight.add(entry);
    return entry;
  }

  /** At-most-once: the message is deleted before its handler runs, and runs only if the delete succeeded. */
  async #deleteThenRun(entries: readonly InFlight[]): Promise<void> {
    const deleted = await Promise.all(entries.map((entry) => this.#delete(entry)));
    const runnable = entries.filter((entry, index) => {
      if (deleted[index]) return true;
      this.#options.logger.warn("not started: deleteOnStart could not delete the message", fields(entry));
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
      this.giveBack(
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
    const { logger, events } = this.#options;
    const { onError, deleteOnStart } = entry.target.queue.options;
    const durationMs = "durationMs" in outcome ? outcome.durationMs : undefined;
    const logFields = { ...fields(entry), durationMs };
    switch (outcome.kind) {
      case "ok":
        // Debug, not info: at production rates a line per message costs more in log ingestion than in SQS.
        logger.debug("message processed", { ...logFields, outcome: "ok" });
        if (!deleteOnStart) void this.#delete(entry);
        break;
      case "restartLater":
        logger.info("message left for later (RestartLater)", {
          ...logFields,
          outcome: "restartLater",
          reason: outcome.reason,
          delaySeconds: outcome.delaySeconds,
        });
        if (deleteOnStart) {
          logger.warn("RestartLater has no effect with deleteOnStart: the message was already deleted", logFields);
        } else if (outcome.delaySeconds !== undefined) {
          void this.#options.acker.changeVisibility(entry.ack, outcome.delaySeconds);
        }
        break;
      case "failed": {
        const failure = {
          ...logFields,
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
        if (onError === "delete" && !deleteOnStart) void this.#delete(entry);
        break;
      }
      case "broken":
        events.emit("settled", entry.target.fullName, "broken", undefined, undefined);
        this.#release(entry.ack);
        this.#finish(entry, { counted: false, refund: true });
        return;
    }
    events.emit(
      "settled",
      entry.target.fullName,
      outcome.kind,
      durationMs,
      outcome.kind === "failed" ? outcome.phase : undefined,
    );
    this.#finish(entry, { counted: true, refund: false });
  }

  #settleCrash(entry: InFlight, error: unknown): void {
    if (this.#interrupting.signal.aborted) {
      this.#releaseInterrupted(entry);
      return;
    }
    this.#options.logger.error("handler thread died", {
      ...fields(entry),
      outcome: "failed",
      phase: "crash",
      error: errorSummary(error),
    });
    const { onError, deleteOnStart } = entry.target.queue.options;
    if (onError === "delete" && !deleteOnStart) void this.#delete(entry);
    this.#options.events.emit("settled", entry.target.fullName, "failed", undefined, "crash");
    this.#finish(entry, { counted: true, refund: false });
  }

  /** A handler stopped by the drain timeout did not complete: its message goes back at once. */
  #releaseInterrupted(entry: InFlight): void {
    this.#options.logger.warn("handler interrupted by shutdown; message released", {
      ...fields(entry),
      outcome: "interrupted",
    });
    if (!entry.target.queue.options.deleteOnStart) this.#release(entry.ack);
    this.#options.events.emit("settled", entry.target.fullName, "interrupted", undefined, undefined);
    this.#finish(entry, { counted: false, refund: false });
  }

  #finish(entry: InFlight, how: { counted: boolean; refund: boolean }): void {
    this.#inFlight.delete(entry);
    if (how.refund) this.#options.capacity.refund(entry.target.queue.name, 1);
    else this.#options.capacity.release(entry.target.queue.name, 1);
    if (how.counted) this.#processed += 1;
    for (const listener of [...this.#settledListeners]) listener();
    if (how.counted) this.#options.onProcessed(this.#processed);
  }

  async #delete(entry: InFlight): Promise<boolean> {
    const deleted = await this.#options.acker.delete(entry.ack);
    if (deleted) this.#options.events.emit("deleted", entry.target.fullName);
    return deleted;
  }

  /** Makes a message receivable again (visibility 0), after the pollers have stopped if a drain is under way. */
  #release(ack: AckTarget): void {
    if (this.#heldReleases) this.#heldReleases.push(ack);
    else void this.#options.acker.changeVisibility(ack, 0);
  }
}

function ackTarget(target: PollTarget, message: Message): AckTarget {
  return { queueUrl: target.url, messageId: message.MessageId ?? "", receiptHandle: message.ReceiptHandle ?? "" };
}

function fields(entry: InFlight): Record<string, unknown> {
  return { queue: entry.target.fullName, messageId: entry.ack.messageId, receiveCount: entry.receiveCount };
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
