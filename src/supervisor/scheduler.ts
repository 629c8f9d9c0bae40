import type { Message } from "@aws-sdk/client-sqs";
import { nextNotification } from "../util/notify.js";
import { Delivery, type FinishedDelivery } from "./delivery.js";
import {
  ScheduledQueue,
  type ConcurrencyGroup,
  type QueueLoad,
  type ReceiveRoom,
  type SchedulerLedger,
} from "./scheduled-queue.js";
import type { PollTarget } from "./target.js";
import type { VisibilityKeeper } from "./visibility-keeper.js";

/** How the scheduler is bounded and what it calls. */
export interface SchedulerOptions {
  /** Messages running at once, across all queues (`pool.maxInFlight`). */
  readonly maxInFlight: number;
  /** Messages buffered per queue beyond those running (`pool.prefetch`). */
  readonly prefetch: number;
  /** Messages buffered across all queues, beyond each queue's one listening message (`pool.maxBuffered`). */
  readonly maxBuffered: number;
  /** Messages to take in all (`--message-limit`). @defaultValue no limit */
  readonly messageLimit?: number | undefined;
  readonly keeper: VisibilityKeeper;
  /** Starts handler runs: one delivery, or several for a batch handler. Their slots are already taken. */
  readonly start: (deliveries: readonly Delivery[]) => void;
  /** Makes deliveries receivable again at once (visibility 0); the scheduler finishes them. */
  readonly release: (deliveries: readonly Delivery[], why: string) => void;
  /** Called after each counted delivery, with the count so far. */
  readonly onProcessed?: (processed: number) => void;
  /**
   * How long a batch handler's start may wait for more free slots before it runs a smaller batch.
   * @defaultValue 20
   */
  readonly gatherMs?: number;
}

export type { QueueLoad, ReceiveRoom } from "./scheduled-queue.js";

/**
 * Decides which received message runs next. Every physical queue has a bounded buffer of deliveries; free
 * pool slots go to them across queues in proportion to each receiver's `weight` (stride scheduling: a queue's
 * "pass" advances by 1/weight per message started, and the lowest pass goes next), first in first out within
 * a queue, and strictly in order within a FIFO message group.
 *
 * The scheduler is the one owner of the counts: buffered, running, giving back, processed, and the receives
 * under way per queue. A delivery's {@link Delivery.finish} is the only way a slot comes back.
 *
 * Paused or draining, nothing starts and buffered messages go back to SQS. A message goes back only once no
 * receive of ours is waiting on its queue: released earlier, our own long poll could take it again at once.
 */
export class Scheduler implements SchedulerLedger {
  readonly #options: SchedulerOptions;
  readonly #queues = new Map<PollTarget, ScheduledQueue>();
  /** Queues with at least one buffered delivery. */
  readonly #ready = new Set<ScheduledQueue>();
  /** Every delivery held here, by its own id (not MessageId: two copies of one message are two deliveries). */
  readonly #byId = new Map<number, Delivery>();
  #running = 0;
  #buffered = 0;
  #givingBack = 0;
  /** Messages asked for by receives under way beyond each receive's first one: reserved under maxBuffered. */
  #reservedBeyondFirst = 0;
  #processed = 0;
  /** Pass of the last queue served: a queue that becomes ready starts no lower, so idling earns no burst. */
  #virtualTime = 0;
  #paused = false;
  #draining = false;
  /** Releases under way: starts wait until every delivery of the release has left its buffer. */
  #releasing = 0;
  readonly #idleListeners = new Set<() => void>();

  constructor(targets: readonly PollTarget[], options: SchedulerOptions) {
    this.#options = options;
    const groups = new Map<string, ConcurrencyGroup>();
    for (const target of targets) {
      const name = target.queue.name;
      let group = groups.get(name);
      if (!group) {
        group = { limit: target.queue.options.concurrency ?? Number.POSITIVE_INFINITY, running: 0 };
        groups.set(name, group);
      }
      this.#queues.set(target, new ScheduledQueue(this, target, group, options.prefetch));
    }
  }

  /** The receive side of one queue, for its poller. */
  room(target: PollTarget): ReceiveRoom {
    const queue = this.#queues.get(target);
    if (!queue) throw new Error(`no scheduled queue for ${target.fullName}`);
    return queue;
  }

  /** Messages running now. */
  get running(): number {
    return this.#running;
  }

  /** Messages waiting in buffers now. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Messages held now: buffered, running, or waiting to go back. */
  get held(): number {
    return this.#buffered + this.#running + this.#givingBack;
  }

  /** Messages whose handlers had their turn. */
  get processed(): number {
    return this.#processed;
  }

  /** A delivery held here, by its id, for a handler's extendVisibility request. */
  find(deliveryId: number): Delivery | undefined {
    return this.#byId.get(deliveryId);
  }

  /** Each queue's buffered and running counts. */
  loads(now = Date.now()): QueueLoad[] {
    const free = this.#running < this.#options.maxInFlight && !this.#paused && !this.#draining;
    return [...this.#queues.values()].map((queue) => queue.load(free, now));
  }

  /** Starts nothing more; buffered messages go back (once no receive of ours waits on their queue). */
  pause(): void {
    this.#paused = true;
    for (const queue of this.#queues.values()) queue.giveBackBuffer("gave back buffered messages: paused");
  }

  /** Starts messages again; those still waiting to go back rejoin their buffers. */
  resume(): void {
    this.#paused = false;
    for (const queue of this.#queues.values()) queue.takeBackUnreleased();
    this.#notifyAll();
    this.pump();
  }

  /** A drain begins: nothing more starts, and buffered messages go back. */
  beginDrain(): void {
    this.#draining = true;
    for (const queue of this.#queues.values()) queue.giveBackBuffer("gave back buffered messages at shutdown");
  }

  /** Releases everything still waiting to go back, whatever receives are under way (the pollers have stopped). */
  releaseAll(): void {
    for (const queue of this.#queues.values()) queue.flushGivingBack(true);
  }

  /** True once nothing runs; false if `timeoutMs` passed first. */
  async waitUntilIdle(timeoutMs: number): Promise<boolean> {
    if (this.#running === 0) return true;
    const deadline = AbortSignal.timeout(timeoutMs);
    while (this.#running > 0 && !deadline.aborted) await nextNotification(this.#idleListeners, deadline);
    return this.#running === 0;
  }

  /** Hands free slots to buffered messages, fairly, until slots or startable messages run out. */
  pump(): void {
    if (this.#paused || this.#draining || this.#releasing > 0) return;
    const { maxInFlight } = this.#options;
    while (this.#running < maxInFlight) {
      const queue = this.#pick();
      if (!queue) return;
      // A queue that was blocked (its group running, its concurrency full) or away starts at the current
      // pass: being owed turns would otherwise let it take a burst of slots.
      queue.pass = Math.max(queue.pass, this.#virtualTime);
      const deliveries = queue.take(maxInFlight - this.#running, maxInFlight);
      // The next queue is gathering slots for a fuller batch: keep the free ones for it (up to gatherMs).
      if (!deliveries) return;
      this.#virtualTime = queue.pass;
      queue.pass += deliveries.length / queue.weight;
      this.#running += deliveries.length;
      this.#buffered -= deliveries.length;
      this.#options.start(deliveries);
    }
  }

  /** The startable queue with the lowest pass. */
  #pick(): ScheduledQueue | undefined {
    let best: ScheduledQueue | undefined;
    for (const queue of this.#ready) {
      if (!queue.canStart()) continue;
      if (!best || queue.pass < best.pass) best = queue;
    }
    return best;
  }

  // SchedulerLedger: the totals each ScheduledQueue reads and updates (documented on the interface). The
  // scheduler is their one owner.

  get gatherMs(): number {
    return this.#options.gatherMs ?? 20;
  }

  get stopped(): boolean {
    return this.#paused || this.#draining;
  }

  globalRoom(primary: boolean): number {
    const room = this.#options.maxBuffered - this.#buffered - this.#reservedBeyondFirst;
    return primary ? 1 + Math.max(0, room) : Math.max(0, room);
  }

  /**
   * Messages the message limit still lets in: the limit less those processed and those held. It counts
   * messages received, not asked for: every queue keeps its long poll waiting, each asking at most this much,
   * and what receives bring beyond it goes back at once (see {@link ScheduledQueue.endReceive}). Counting
   * what was asked for let idle long polls on other queues hold the last of the budget while the queue whose
   * message had just arrived sent no receive at all.
   */
  budgetLeft(): number {
    const limit = this.#options.messageLimit;
    return limit === undefined ? Number.POSITIVE_INFINITY : limit - this.#processed - this.held;
  }

  /** A receive ended or a delivery finished: queues waiting on the message limit may go on. */
  budgetChanged(): void {
    if (this.#options.messageLimit !== undefined) this.#notifyAll();
  }

  asked(size: number, primary: boolean, sign: 1 | -1): void {
    this.#reservedBeyondFirst += sign * (primary ? size - 1 : size);
  }

  admit(queue: ScheduledQueue, message: Message): Delivery {
    const delivery = new Delivery(queue.target, message, this.#options.keeper);
    this.#byId.set(delivery.id, delivery);
    delivery.onFinish((finished, end) => this.#finished(queue, finished, end));
    if (queue.buffer.length === 0) {
      queue.pass = Math.max(queue.pass, this.#virtualTime);
      this.#ready.add(queue);
    }
    this.#buffered += 1;
    return delivery;
  }

  unready(queue: ScheduledQueue): void {
    if (queue.buffer.length === 0) this.#ready.delete(queue);
  }

  ready(queue: ScheduledQueue): void {
    if (queue.buffer.length > 0) this.#ready.add(queue);
  }

  movedToGiveBack(count: number): void {
    this.#buffered -= count;
    this.#givingBack += count;
  }

  movedToBuffer(count: number): void {
    this.#givingBack -= count;
    this.#buffered += count;
  }

  released(deliveries: readonly Delivery[], why: string): void {
    if (deliveries.length === 0) return;
    this.#options.release(deliveries, why);
    // None may start while the others are still being taken out: a FIFO group's later message would run.
    this.#releasing += 1;
    try {
      for (const delivery of deliveries) delivery.finish({ counted: false, succeeded: false });
    } finally {
      this.#releasing -= 1;
    }
    this.pump();
  }

  #finished(queue: ScheduledQueue, delivery: Delivery, end: FinishedDelivery): void {
    this.#byId.delete(delivery.id);
    if (end.heldSlot) {
      this.#running -= 1;
      queue.stopped(delivery);
    } else if (queue.forget(delivery)) {
      this.#givingBack -= 1;
    } else {
      // A buffered delivery that finished in place (given back from the buffer).
      this.#buffered -= 1;
    }
    if (end.counted) {
      this.#processed += 1;
      this.#options.onProcessed?.(this.#processed);
    }
    // A FIFO group whose message did not succeed must not run its later messages out of order: they go back.
    if (queue.target.queue.fifo && end.heldSlot && !end.succeeded && delivery.groupId !== "") {
      queue.giveBackGroup(delivery.groupId);
    }
    queue.notifyRoom();
    this.budgetChanged();
    if (this.#running === 0) for (const listener of [...this.#idleListeners]) listener();
    this.pump();
  }

  #notifyAll(): void {
    for (const queue of this.#queues.values()) queue.notifyRoom();
  }
}
