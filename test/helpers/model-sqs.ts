import type {
  BatchResultErrorEntry,
  ChangeMessageVisibilityBatchCommandInput,
  ChangeMessageVisibilityBatchCommandOutput,
  DeleteMessageBatchCommandInput,
  DeleteMessageBatchCommandOutput,
  Message,
  ReceiveMessageCommandInput,
  ReceiveMessageCommandOutput,
} from "@aws-sdk/client-sqs";
import type { HotCallOptions, SqsHotPath } from "../../src/sqs/hot-path.js";
import { abortError, serviceError, type SqsFault } from "./model-sqs-faults.js";

export type { SqsFault } from "./model-sqs-faults.js";

/** One message in the model: where it is in its life, and what happened to it. */
export interface ModelMessage {
  readonly id: string;
  readonly queueUrl: string;
  /** FIFO message group, "" on a standard queue. */
  readonly groupId: string;
  /** Order of sending across the model. */
  readonly seq: number;
  readonly body: string;
  /** Until when it is hidden (epoch ms); visible at or after it. */
  visibleAt: number;
  /** The receipt handle of its latest receive; older ones are refused. */
  receipt: string | undefined;
  receiveCount: number;
  deleted: boolean;
  /** Times its visibility ran out while it was received (SQS may then deliver it again). */
  lapses: number;
}

interface WaitingReceive {
  readonly input: ReceiveMessageCommandInput;
  /** Most messages it may return. */
  readonly most: number;
  readonly resolve: (output: ReceiveMessageCommandOutput) => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  readonly onAbort: () => void;
  readonly signal: AbortSignal | undefined;
}

const METADATA = { $metadata: {} } as const;

/**
 * SQS in memory, as far as sqsd's hot path sees it: long polls that wait (on the global timers, so on the
 * model's fake time) and return as soon as a message is visible; receives that return fewer messages than
 * asked when told to; visibility timeouts that run out; a new receipt handle per receive, older ones refused;
 * FIFO groups returned in order and locked while one of their messages is in flight (several of one group in
 * one receive, as SQS does); batch deletes and visibility changes with per-entry failures; injected faults.
 */
export class ModelSqs implements SqsHotPath {
  readonly transport = "sdk";
  readonly messages: ModelMessage[] = [];
  readonly #waiting: WaitingReceive[] = [];
  readonly #faults: Exclude<SqsFault, { action: "outage" }>[] = [];
  /** Most messages the next receive of a queue returns (a "short" receive), by queue URL. */
  readonly #shortBy = new Map<string, number>();
  #sent = 0;
  #outageUntil = 0;
  readonly #receiveFailedAt = new Map<string, number>();
  readonly #receiveCalls = new Map<string, number>();
  readonly #lastFull = new Map<string, boolean>();
  /** Answers on their way back: receives by queue URL, acks by "ack " and the URL. */
  readonly #travelling = new Map<string, number>();
  /** How long an answer takes to come back (fake ms); 0 answers in the same turn. */
  latencyMs = 0;
  #receipts = 0;
  /** Receives answered so far (empty ones included). */
  receives = 0;
  /** Visibility changes applied: message id and seconds, in order. */
  readonly visibilityChanges: { readonly id: string; readonly seconds: number; readonly at: number }[] = [];

  /** Sends messages to a queue; a waiting long poll there returns them at once. */
  send(queueUrl: string, groups: readonly string[]): ModelMessage[] {
    const sent = groups.map((groupId) => {
      const seq = ++this.#sent;
      const message: ModelMessage = {
        id: `m${seq}`,
        queueUrl,
        groupId,
        seq,
        // A marker no log line may carry.
        body: `BODY-${seq}-personal`,
        visibleAt: 0,
        receipt: undefined,
        receiveCount: 0,
        deleted: false,
        lapses: 0,
      };
      this.messages.push(message);
      return message;
    });
    this.#serveWaiting();
    return sent;
  }

  /** The next receive on this queue returns at most `count` messages (0: none, after its wait). */
  shortenNextReceive(queueUrl: string, count: number): void {
    this.#shortBy.set(queueUrl, count);
  }

  /** The next matching call fails this way; an outage fails every call until it ends. */
  inject(fault: SqsFault): void {
    if (fault.action === "outage") this.#outageUntil = Math.max(this.#outageUntil, Date.now() + fault.ms);
    else this.#faults.push(fault);
  }

  /** ReceiveMessage calls on this queue so far. */
  receiveCalls(queueUrl: string): number {
    return this.#receiveCalls.get(queueUrl) ?? 0;
  }

  /** When a receive on this queue last failed (a fault or an outage), epoch ms. */
  receiveFailedAt(queueUrl: string): number | undefined {
    return this.#receiveFailedAt.get(queueUrl);
  }

  /** Whether SQS cannot be reached now. */
  get down(): boolean {
    return Date.now() < this.#outageUntil;
  }

  /** Whether the last receive answered on a queue brought as many messages as it asked for (a backlog, maybe). */
  lastAnswerFull(queueUrl: string): boolean {
    return this.#lastFull.get(queueUrl) ?? false;
  }

  /** Receives waiting on a queue now, or answered and on their way back. */
  waitingOn(queueUrl: string): number {
    const parked = this.#waiting.filter((waiting) => waiting.input.QueueUrl === queueUrl).length;
    return parked + (this.#travelling.get(queueUrl) ?? 0);
  }

  /**
   * An answer on its way back: it arrives after the network latency, on fake time. Meanwhile a step may land
   * between SQS answering and the daemon reading the answer (a wake, a pause, a drain).
   */
  #inTransit<T>(key: string, output: T): Promise<T> {
    if (this.latencyMs === 0) return Promise.resolve(output);
    this.#travelling.set(key, (this.#travelling.get(key) ?? 0) + 1);
    return new Promise((resolve) =>
      setTimeout(() => {
        this.#travelling.set(key, (this.#travelling.get(key) ?? 0) - 1);
        resolve(output);
      }, this.latencyMs),
    );
  }

  /** Whether a message is in flight (received, hidden, not deleted) now. */
  inFlight(message: ModelMessage, now = Date.now()): boolean {
    return !message.deleted && message.receipt !== undefined && message.visibleAt > now;
  }

  receiveMessage(
    input: ReceiveMessageCommandInput,
    options: HotCallOptions = {},
  ): Promise<ReceiveMessageCommandOutput> {
    this.#receiveCalls.set(input.QueueUrl ?? "", this.receiveCalls(input.QueueUrl ?? "") + 1);
    const fault = this.#takeFault((f) => f.action === "receive" && f.queueUrl === input.QueueUrl);
    if (this.down || fault?.action === "receive") {
      this.#receiveFailedAt.set(input.QueueUrl ?? "", Date.now());
      return Promise.reject(serviceError(fault?.action === "receive" && !this.down ? fault.error : "network"));
    }
    const url = input.QueueUrl ?? "";
    // A short receive returns at most this many; 0 misses every message and returns empty after its wait, as
    // a long poll that sampled none of SQS's servers holding one.
    const most = Math.min(input.MaxNumberOfMessages ?? 1, this.#shortBy.get(url) ?? Number.POSITIVE_INFINITY);
    this.#shortBy.delete(url);
    const ready = most > 0 ? this.#take(input, most) : [];
    if (ready.length > 0 || (input.WaitTimeSeconds ?? 0) === 0) return this.#inTransit(url, this.#output(input, ready));
    const { abortSignal: signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const waiting: WaitingReceive = {
        input,
        most,
        resolve,
        reject,
        timer: undefined,
        signal,
        onAbort: () => {
          this.#unpark(waiting);
          reject(abortError(signal));
        },
      };
      waiting.timer = setTimeout(
        () => {
          this.#unpark(waiting);
          void this.#inTransit(url, this.#output(input, most > 0 ? this.#take(input, most) : [])).then(resolve);
        },
        (input.WaitTimeSeconds ?? 0) * 1000,
      );
      signal?.addEventListener("abort", waiting.onAbort, { once: true });
      this.#waiting.push(waiting);
    });
  }

  deleteMessageBatch(input: DeleteMessageBatchCommandInput): Promise<DeleteMessageBatchCommandOutput> {
    return this.#batch(input.QueueUrl ?? "", input.Entries ?? [], false, (message) => {
      message.deleted = true;
      this.#serveWaiting();
    });
  }

  changeMessageVisibilityBatch(
    input: ChangeMessageVisibilityBatchCommandInput,
  ): Promise<ChangeMessageVisibilityBatchCommandOutput> {
    const seconds = new Map((input.Entries ?? []).map((entry) => [entry.Id, entry.VisibilityTimeout ?? 0]));
    return this.#batch(input.QueueUrl ?? "", input.Entries ?? [], true, (message, id) => {
      const timeoutSeconds = seconds.get(id) ?? 0;
      const now = Date.now();
      message.visibleAt = now + timeoutSeconds * 1000;
      this.visibilityChanges.push({ id: message.id, seconds: timeoutSeconds, at: now });
      this.#watchVisibility(message);
      this.#serveWaiting();
    });
  }

  #batch(
    queueUrl: string,
    entries: readonly { Id?: string | undefined; ReceiptHandle?: string | undefined }[],
    /** Visibility changes need the message in flight; a delete takes any current receipt handle. */
    needsInFlight: boolean,
    apply: (message: ModelMessage, id: string) => void,
  ): Promise<{ Successful: { Id: string }[]; Failed: BatchResultErrorEntry[]; $metadata: object }> {
    if (this.down) return Promise.reject(serviceError("network"));
    const taken = this.#takeFault((f) => f.action === "ack");
    const fault = taken?.action === "ack" ? taken : undefined;
    if (fault?.error === "unavailable" || fault?.error === "network") return Promise.reject(serviceError(fault.error));
    const now = Date.now();
    const successful: { Id: string }[] = [];
    const failed: BatchResultErrorEntry[] = [];
    for (const [index, entry] of entries.entries()) {
      const id = entry.Id ?? "";
      if (fault && index === 0) {
        failed.push(
          fault.error === "entry"
            ? { Id: id, SenderFault: false, Code: "InternalError", Message: "model: entry failed" }
            : { Id: id, SenderFault: true, Code: "ReceiptHandleIsInvalid", Message: "model: invalid" },
        );
        continue;
      }
      const message = this.messages.find((m) => m.queueUrl === queueUrl && m.receipt === entry.ReceiptHandle);
      if (!message || message.deleted) {
        failed.push({ Id: id, SenderFault: true, Code: "ReceiptHandleIsInvalid", Message: "model: stale handle" });
      } else if (needsInFlight && message.visibleAt <= now) {
        failed.push({ Id: id, SenderFault: true, Code: "MessageNotInflight", Message: "model: not in flight" });
      } else {
        apply(message, id);
        successful.push({ Id: id });
      }
    }
    return this.#inTransit(`ack ${queueUrl}`, { Successful: successful, Failed: failed, ...METADATA });
  }

  #output(input: ReceiveMessageCommandInput, messages: readonly Message[]): ReceiveMessageCommandOutput {
    this.receives += 1;
    this.#lastFull.set(input.QueueUrl ?? "", messages.length === (input.MaxNumberOfMessages ?? 1));
    return { Messages: messages.length > 0 ? [...messages] : undefined, ...METADATA };
  }

  /** Takes up to `most` visible messages: in order; on FIFO, none of a group with a message in flight. */
  #take(input: ReceiveMessageCommandInput, most: number): Message[] {
    const now = Date.now();
    const url = input.QueueUrl ?? "";
    const fifo = url.endsWith(".fifo");
    const locked = new Set<string>();
    const taken: Message[] = [];
    for (const message of this.messages) {
      if (message.queueUrl !== url || message.deleted) continue;
      if (taken.length >= most) break;
      const visible = message.visibleAt <= now;
      if (fifo && locked.has(message.groupId)) continue;
      if (!visible) {
        if (fifo) locked.add(message.groupId);
        continue;
      }
      if (message.receipt !== undefined) message.lapses += 1;
      message.receipt = `rh-${message.id}-${++this.#receipts}`;
      message.receiveCount += 1;
      message.visibleAt = now + (input.VisibilityTimeout ?? 30) * 1000;
      this.#watchVisibility(message);
      taken.push({
        MessageId: message.id,
        ReceiptHandle: message.receipt,
        Body: message.body,
        Attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          ...(fifo ? { MessageGroupId: message.groupId } : {}),
        },
      });
    }
    return taken;
  }

  /** When a message becomes visible again, a waiting long poll may take it. */
  #watchVisibility(message: ModelMessage): void {
    const delay = message.visibleAt - Date.now();
    if (delay > 0) setTimeout(() => this.#serveWaiting(), delay);
  }

  /** Gives visible messages to long polls waiting on their queues, oldest poll first. */
  #serveWaiting(): void {
    for (const waiting of [...this.#waiting]) {
      if (waiting.most === 0) continue;
      const taken = this.#take(waiting.input, waiting.most);
      if (taken.length === 0) continue;
      this.#unpark(waiting);
      void this.#inTransit(waiting.input.QueueUrl ?? "", this.#output(waiting.input, taken)).then(waiting.resolve);
    }
  }

  #unpark(waiting: WaitingReceive): void {
    const index = this.#waiting.indexOf(waiting);
    if (index !== -1) this.#waiting.splice(index, 1);
    clearTimeout(waiting.timer);
    waiting.signal?.removeEventListener("abort", waiting.onAbort);
  }

  #takeFault(
    matches: (fault: Exclude<SqsFault, { action: "outage" }>) => boolean,
  ): Exclude<SqsFault, { action: "outage" }> | undefined {
    const index = this.#faults.findIndex(matches);
    return index === -1 ? undefined : this.#faults.splice(index, 1)[0];
  }
}
