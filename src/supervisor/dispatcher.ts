import type { Message } from "@aws-sdk/client-sqs";
import type { RetryOptions } from "../config/types.js";
import type { Logger } from "../logging.js";
import type { Outcome } from "../pool/protocol.js";
import type { Acker, AckTarget } from "./acker.js";
import type { Capacity } from "./capacity.js";
import type { SupervisorEmitter } from "./events.js";
import type { HandlerPool, RunningTask } from "../pool/pool.js";
import type { PollTarget } from "./poller.js";
import { fifoGroups, toWireMessage } from "./received.js";
import { settle, type RunEnd } from "./settlement.js";
import { VisibilityKeeper, type KeptVisibility } from "./visibility-keeper.js";

interface InFlight {
  readonly target: PollTarget;
  readonly message: Message;
  readonly ack: AckTarget;
  readonly receiveCount: number;
  readonly receivedAt: number;
  task: RunningTask | undefined;
  /** The visibility heartbeat, while the handler runs. */
  visibility: KeptVisibility | undefined;
  /** The handler ran past its `timeoutMs`. */
  timedOut: boolean;
}

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
  readonly capacity: Capacity;
  readonly logger: Logger;
  readonly events: SupervisorEmitter;
  /** Retry delays for queues that set none (config `defaults.retry`). */
  readonly defaultRetry: RetryOptions | false;
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
  #draining = false;
  readonly #keeper: VisibilityKeeper;
  /** Running messages by message id, for handlers' extendVisibility requests. */
  readonly #byMessageId = new Map<string, InFlight>();

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#keeper = new VisibilityKeeper(options.acker, options.logger);
  }

  /** A handler's `message.extendVisibility(seconds)`; false if the message is not running here. */
  async extendVisibility(messageId: string, seconds: number): Promise<boolean> {
    const entry = this.#byMessageId.get(messageId);
    if (!entry?.visibility) return false;
    return entry.visibility.extend(seconds);
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

  /**
   * A drain begins: messages not started yet (later messages of a FIFO group) go back instead of running,
   * and until {@link Dispatcher.releaseHeld}, releases wait (the drain still has receives under way).
   */
  beginDrain(): void {
    this.#draining = true;
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
      receivedAt: Date.now(),
      task: undefined,
      visibility: undefined,
      timedOut: false,
    };
    // The heartbeat starts at receipt, not when the handler starts: a FIFO message can wait behind the
    // earlier ones of its group, and its visibility timeout runs while it waits.
    if (!target.queue.options.deleteOnStart && target.visibilityTimeoutSeconds > 0) {
      entry.visibility = this.#keeper.keep(entry.ack, entry.receivedAt, target.visibilityTimeoutSeconds, fields(entry));
    }
    this.#inFlight.add(entry);
    this.#byMessageId.set(entry.ack.messageId, entry);
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
    const first = entries[0];
    if (!first) return;
    const handler = first.target.queue.handler;
    if (handler?.kind === "batch") {
      for (let start = 0; start < entries.length; start += handler.batchSize) {
        void this.#run(entries.slice(start, start + handler.batchSize));
      }
    } else if (first.target.queue.fifo) {
      for (const group of fifoGroups(entries, (entry) => entry.message)) void this.#runInOrder(group);
    } else {
      for (const entry of entries) void this.#run([entry]);
    }
  }

  /**
   * FIFO: one group's messages from one receive, strictly one after another. When one does not succeed, the
   * later ones are not run out of order: they go back to the queue, behind it. A drain gives back the ones
   * not started yet. (With deleteOnStart they are already deleted and cannot go back, so they all run.)
   */
  async #runInOrder(group: readonly InFlight[]): Promise<void> {
    const canGiveBack = !group[0]?.target.queue.options.deleteOnStart;
    for (const [index, entry] of group.entries()) {
      if (index > 0 && this.#draining && canGiveBack) {
        this.#giveBackUnstarted(group.slice(index), "gave back the unstarted rest of a FIFO group at shutdown");
        return;
      }
      const [succeeded] = await this.#run([entry]);
      if (!succeeded && canGiveBack) {
        const why = "gave back later messages of a FIFO group after a failure, to keep its order";
        this.#giveBackUnstarted(group.slice(index + 1), why);
        return;
      }
    }
  }

  /** Releases held messages that never started; their capacity slots are refunded. */
  #giveBackUnstarted(entries: readonly InFlight[], why: string): void {
    const first = entries[0];
    if (!first) return;
    this.#options.logger.info(why, {
      queue: first.target.fullName,
      groupId: first.message.Attributes?.MessageGroupId,
      count: entries.length,
    });
    for (const entry of entries) {
      this.#release(entry.ack);
      this.#finish(entry, { counted: false, refund: true });
    }
  }

  /** Runs one task; resolves, once every message is settled, with which of them succeeded. */
  async #run(entries: readonly InFlight[]): Promise<boolean[]> {
    const first = entries[0];
    if (!first) return [];
    if (this.#interrupting.signal.aborted) {
      this.#giveBackUnstarted(entries, "gave back messages not started before the drain timeout");
      return entries.map(() => false);
    }
    const { target } = first;
    const task = this.#options.pool.run({
      queue: target.queue.name,
      suffix: target.suffix,
      fullName: target.fullName,
      messages: entries.map((entry) => toWireMessage(entry.message)),
    });
    for (const entry of entries) entry.task = task;
    const timeoutMs = target.queue.options.timeoutMs;
    let timeoutTimer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined)
      timeoutTimer = setTimeout(() => void this.#timeOut(entries, task, timeoutMs), timeoutMs);
    try {
      const outcomes = await task.outcome;
      return entries.map((entry, index) => this.#settle(entry, outcomes[index] ?? NO_OUTCOME));
    } catch (error) {
      return entries.map((entry) => this.#settle(entry, { kind: "crashed", error }));
    } finally {
      clearTimeout(timeoutTimer);
    }
  }

  /** `timeoutMs` passed: abort the handler's signal; a second later, end its thread if it is still running. */
  async #timeOut(entries: readonly InFlight[], task: RunningTask, timeoutMs: number): Promise<void> {
    const running = entries.filter((entry) => this.#inFlight.has(entry));
    if (running.length === 0) return;
    for (const entry of running) entry.timedOut = true;
    this.#options.logger.warn("handler timed out; aborting it", { ...fields(running[0]!), timeoutMs });
    task.abort(`handler timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_GRACE_MS));
    if (!running.some((entry) => this.#inFlight.has(entry) && entry.task === task)) return;
    // A handler that ignores its signal, or blocks its thread's event loop, only stops with its thread.
    const ended = await task.terminateThread();
    this.#options.logger.warn(
      ended
        ? "handler did not stop after its signal; its thread was ended"
        : "handler did not stop, and its thread is unknown",
      { ...fields(running[0]!), timeoutMs },
    );
  }

  /** Carries out what {@link settle} decided for a message whose run is over; true when the handler succeeded. */
  #settle(entry: InFlight, end: RunEnd): boolean {
    const settlement = settle(end, {
      options: entry.target.queue.options,
      defaultRetry: this.#options.defaultRetry,
      receiveCount: entry.receiveCount,
      timedOut: entry.timedOut,
      interrupting: this.#interrupting.signal.aborted,
    });
    for (const line of settlement.logs)
      this.#options.logger.log(line.level, line.message, { ...fields(entry), ...line.fields });
    const { action } = settlement;
    if (action.kind === "delete") void this.#delete(entry);
    else if (action.kind === "changeVisibility") void this.#options.acker.changeVisibility(entry.ack, action.seconds);
    else if (action.kind === "release") this.#release(entry.ack);
    this.#options.events.emit(
      "settled",
      entry.target.fullName,
      settlement.settledAs,
      settlement.durationMs,
      settlement.phase,
    );
    this.#finish(entry, settlement);
    return settlement.settledAs === "ok";
  }

  /** Every settled message ends here: its heartbeat stops and its capacity slot goes back. */
  #finish(entry: InFlight, how: { counted: boolean; refund: boolean }): void {
    entry.visibility?.stop();
    this.#inFlight.delete(entry);
    if (this.#byMessageId.get(entry.ack.messageId) === entry) this.#byMessageId.delete(entry.ack.messageId);
    if (how.refund) this.#options.capacity.refund(entry.target.queue.name, 1);
    else this.#options.capacity.release(entry.target.queue.name, 1);
    if (how.counted) this.#processed += 1;
    for (const listener of [...this.#settledListeners]) listener();
    if (how.counted) this.#options.onProcessed(this.#processed);
  }

  async #delete(entry: InFlight): Promise<boolean> {
    const validUntil = entry.visibility?.deadline ?? entry.receivedAt + entry.target.visibilityTimeoutSeconds * 1000;
    const deleted = await this.#options.acker.delete({ ...entry.ack, validUntil });
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
