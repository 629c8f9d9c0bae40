import type { Message } from "@aws-sdk/client-sqs";
import type { AckTarget } from "./acker.js";
import type { PollTarget } from "./target.js";
import type { RunningHandler } from "../pool/pool.js";
import { MessageTrace } from "../telemetry/message-trace.js";
import type { KeptVisibility, VisibilityKeeper } from "./visibility-keeper.js";

/** How often a timeout looks again for the start of a run still waiting for a permit in its thread. */
const NOT_STARTED_RECHECK_MS = 250;

/**
 * Where a delivery is in its life: waiting in its queue's buffer, running on the pool, waiting to be given
 * back to SQS (paused or draining), or done.
 */
export type DeliveryState = "buffered" | "running" | "givingBack" | "done";

/** How a delivery ended, as the scheduler counts it. */
export interface DeliveryEnd {
  /** The handler had its turn (counts toward `--message-limit` and `processed`). */
  readonly counted: boolean;
  /** The handler succeeded: a FIFO group's next message may start. */
  readonly succeeded: boolean;
}

/** What the finish listener learns: how it ended, and whether it held a pool slot. */
export interface FinishedDelivery extends DeliveryEnd {
  readonly heldSlot: boolean;
}

/**
 * One received message and everything about it: its receipt handle, its visibility heartbeat (from receipt,
 * so a buffered message is never redelivered while it waits), its pool slot while it runs, its timeout, and
 * a settle-once guard. {@link Delivery.finish} is the only way a slot goes back, so a message can never free
 * its slot twice, or not at all.
 */
export class Delivery {
  /** Ids handed out so far in this process. */
  static #issued = 0;
  /**
   * This delivery's own id, unique in the process. A handler's requests about its message name it, not the
   * MessageId: SQS may deliver a second copy of a message (at-least-once), and that copy is another delivery.
   */
  readonly id = ++Delivery.#issued;
  readonly target: PollTarget;
  readonly message: Message;
  readonly ack: AckTarget;
  /** SQS's ApproximateReceiveCount: 1 on first delivery. */
  readonly receiveCount: number;
  /** When the receive returned (epoch ms): SQS's 12-hour visibility ceiling counts from here. */
  readonly receivedAt: number;
  /** FIFO message group, or "" on standard queues. */
  readonly groupId: string;
  #state: DeliveryState = "buffered";
  #visibility: KeptVisibility | undefined;
  /** The heartbeat reported the message lost: SQS may deliver it again. */
  #lostVisibility = false;
  #timeoutTimer: NodeJS.Timeout | undefined;
  #onFinish: ((delivery: Delivery, end: FinishedDelivery) => void) | undefined;
  /** The handler run this delivery belongs to, once it is posted to the pool. */
  handler: RunningHandler | undefined;
  /** The handler ran past its `timeoutMs`. */
  timedOut = false;
  /** Its spans, and the trace ids its log lines carry. */
  readonly trace: MessageTrace;

  constructor(target: PollTarget, message: Message, keeper: VisibilityKeeper, receivedAt = Date.now()) {
    this.target = target;
    this.message = message;
    this.ack = {
      queueUrl: target.url,
      messageId: message.MessageId ?? "",
      receiptHandle: message.ReceiptHandle ?? "",
    };
    this.receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? "1");
    this.receivedAt = receivedAt;
    this.groupId = message.Attributes?.MessageGroupId ?? "";
    this.trace = new MessageTrace(target.fullName, target.queue.name, message, this.receiveCount, receivedAt);
    if (target.visibilityTimeoutSeconds > 0) {
      this.#visibility = keeper.keep(
        this.ack,
        receivedAt,
        target.visibilityTimeoutSeconds,
        () => this.logFields(),
        () => {
          this.#lostVisibility = true;
          this.#visibilityLost();
        },
      );
    }
  }

  get state(): DeliveryState {
    return this.#state;
  }

  get messageId(): string {
    return this.ack.messageId;
  }

  /** Until when the receipt handle is good (epoch ms): the visibility deadline the heartbeat keeps moving. */
  get validUntil(): number {
    return this.#visibility?.deadline ?? this.receivedAt + this.target.visibilityTimeoutSeconds * 1000;
  }

  /**
   * Whether the receipt handle is still this delivery's: the heartbeat never lost the message and its
   * visibility deadline has not passed. Once false, SQS may have handed the message to another receiver.
   */
  get ownsReceipt(): boolean {
    return !this.#lostVisibility && Date.now() <= this.validUntil;
  }

  /** Called once, by whoever owns the delivery's accounting (the scheduler), when it finishes. */
  onFinish(listener: (delivery: Delivery, end: FinishedDelivery) => void): void {
    this.#onFinish = listener;
  }

  /** Moves from the buffer to the pool; it holds a pool slot until {@link Delivery.finish}. */
  markRunning(): void {
    this.#state = "running";
    this.trace.endReceive();
  }

  /** Leaves the buffer to be given back to SQS; the heartbeat keeps it hidden until then. */
  markGivingBack(): void {
    this.#state = "givingBack";
  }

  /** Back into the buffer (resumed before it was given back). */
  markBuffered(): void {
    this.#state = "buffered";
  }

  /** A handler's `message.extendVisibility(seconds)`. False once the message is done. */
  async extendVisibility(seconds: number): Promise<boolean> {
    if (this.#state === "done" || !this.#visibility) return false;
    return this.#visibility.extend(seconds);
  }

  /** The message is deleted (deleteOnStart): there is no visibility left to keep. */
  stopHeartbeat(): void {
    this.#visibility?.stop();
  }

  /**
   * Calls `onTimeout` once the handler has run for `timeoutMs`, counted from `startedAt()` (when its thread
   * began it: a packed run may wait for a permit first), unless the delivery finishes first.
   */
  startTimeout(timeoutMs: number, startedAt: () => number | undefined, onTimeout: () => void): void {
    const check = (): void => {
      const started = startedAt();
      // Not begun yet: look again soon rather than a whole timeout later.
      const wait =
        started === undefined ? Math.min(timeoutMs, NOT_STARTED_RECHECK_MS) : started + timeoutMs - Date.now();
      if (started !== undefined && wait <= 0) onTimeout();
      else this.#timeoutTimer = setTimeout(check, wait);
    };
    this.#timeoutTimer = setTimeout(check, timeoutMs);
  }

  /**
   * Ends the delivery: stops its heartbeat and timeout, and tells the scheduler, which takes back the slot of
   * a running delivery. Only the first call counts; it returns false for any later one.
   */
  finish(end: DeliveryEnd): boolean {
    if (this.#state === "done") return false;
    const wasRunning = this.#state === "running";
    this.#state = "done";
    this.#visibility?.stop();
    clearTimeout(this.#timeoutTimer);
    this.#onFinish?.(this, { ...end, heldSlot: wasRunning });
    // Last: the heartbeat and the slot must not depend on the app's span processors (which cannot throw
    // through MessageTrace, but may be slow).
    this.trace.endReceive();
    return true;
  }

  /**
   * The heartbeat could not keep the message hidden: SQS will deliver it again (perhaps to us, as a new
   * delivery). One that has not started must not run as well: it leaves the buffer, uncounted. A running one
   * runs on; the keeper has logged that it may be redelivered.
   */
  #visibilityLost(): void {
    if (this.#state !== "buffered" && this.#state !== "givingBack") return;
    this.finish({ counted: false, succeeded: false });
  }

  /** The fields every log line about this message carries: never the body. */
  logFields(): Record<string, unknown> {
    return {
      queue: this.target.fullName,
      messageId: this.ack.messageId,
      receiveCount: this.receiveCount,
      ...this.trace.logFields(),
    };
  }
}
