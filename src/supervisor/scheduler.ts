import type { Message } from "@aws-sdk/client-sqs";
import { SQS_LIMITS } from "../limits.js";
import { Delivery, type FinishedDelivery } from "./delivery.js";
import type { PollTarget } from "./poller.js";
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

/** One queue's share of the scheduler, as status pages and the watchdog read it. */
export interface QueueLoad {
  readonly queue: string;
  readonly buffered: number;
  readonly running: number;
  /** Since when (epoch ms) a startable message has waited while a slot was free; undefined when none has. */
  readonly starvedSince: number | undefined;
  /** When a handler run of this queue last started (epoch ms). */
  readonly lastStartAt: number | undefined;
}

/** What a poller asks of the scheduler: how much to receive, and where to put it. */
export interface ReceiveRoom {
  /**
   * How many messages the next receive may ask for: at most `want` and 10, within the queue's prefetch room,
   * the message limit and (beyond one message) the global buffer ceiling. 0 when the queue's own buffer is
   * full or the message limit is reached: the poller then waits for {@link ReceiveRoom.roomChanged}.
   * An extra lane (`primary` false) gets nothing past the global ceiling: only the primary lane always listens.
   */
  receiveSize(want: number, primary: boolean): number;
  /** Messages of this queue waiting in its buffer. */
  readonly buffered: number;
  /** Resolves when the room may have grown, or when `signal` aborts. */
  roomChanged(signal: AbortSignal): Promise<void>;
  /** A receive of `size` messages is under way. */
  beginReceive(size: number, primary: boolean): void;
  /** It returned: the messages join the buffer (or go back, when paused or draining). */
  endReceive(size: number, primary: boolean, messages: readonly Message[]): void;
}

/** A registered queue's `concurrency`, shared by its suffixed variants. */
interface ConcurrencyGroup {
  readonly limit: number;
  running: number;
}

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
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #queues = new Map<PollTarget, ScheduledQueue>();
  /** Queues with at least one buffered delivery. */
  readonly #ready = new Set<ScheduledQueue>();
  readonly #byMessageId = new Map<string, Delivery>();
  #running = 0;
  #buffered = 0;
  #givingBack = 0;
  /** Messages asked for by receives under way, and the part of that beyond each receive's first message. */
  #asked = 0;
  #reservedBeyondFirst = 0;
  #processed = 0;
  /** Pass of the last queue served: a queue that becomes ready starts no lower, so idling earns no burst. */
  #virtualTime = 0;
  #paused = false;
  #draining = false;
  /** Queues refused by the message limit, in the order they asked: they take turns (see budgetRoom). */
  readonly #budgetLine: ScheduledQueue[] = [];
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

  /** The delivery of a message held here, for a handler's extendVisibility request. */
  find(messageId: string): Delivery | undefined {
    return this.#byMessageId.get(messageId);
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
    while (this.#running > 0 && !deadline.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#idleListeners.delete(done);
          deadline.removeEventListener("abort", done);
          resolve();
        };
        this.#idleListeners.add(done);
        deadline.addEventListener("abort", done, { once: true });
      });
    }
    return this.#running === 0;
  }

  /** Hands free slots to buffered messages, fairly, until slots or startable messages run out. */
  pump(): void {
    if (this.#paused || this.#draining || this.#releasing > 0) return;
    while (this.#running < this.#options.maxInFlight) {
      const queue = this.#pick();
      if (!queue) return;
      const deliveries = queue.take(this.#options.maxInFlight - this.#running);
      if (deliveries.length === 0) continue;
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

  // The accounting below is called by ScheduledQueue; the scheduler owns the totals.

  /** @internal */ get gatherMs(): number {
    return this.#options.gatherMs ?? 20;
  }

  /** @internal */ get stopped(): boolean {
    return this.#paused || this.#draining;
  }

  /** @internal */ globalRoom(primary: boolean): number {
    const room = this.#options.maxBuffered - this.#buffered - this.#reservedBeyondFirst;
    return primary ? 1 + Math.max(0, room) : Math.max(0, room);
  }

  /**
   * @internal What `queue` may still take under the message limit. When the budget runs short, queues take
   * turns: one refused joins a line, and may take only what is left after those ahead of it in the line.
   * Without the line, a queue whose long poll came back empty would take the last of the budget again at
   * once, and another queue's messages would never be received.
   */
  budgetRoom(queue: ScheduledQueue): number {
    const limit = this.#options.messageLimit;
    if (limit === undefined) return Number.POSITIVE_INFINITY;
    const index = this.#budgetLine.indexOf(queue);
    const ahead = index === -1 ? this.#budgetLine.length : index;
    const room = limit - this.#processed - this.held - this.#asked - ahead;
    if (room <= 0) {
      if (index === -1) this.#budgetLine.push(queue);
    } else if (index !== -1) {
      this.#budgetLine.splice(index, 1);
    }
    return room;
  }

  /** @internal A receive ended or a delivery finished: queues waiting on the message limit may go on. */
  budgetChanged(): void {
    if (this.#options.messageLimit !== undefined) this.#notifyAll();
  }

  /** @internal */ asked(size: number, primary: boolean, sign: 1 | -1): void {
    this.#asked += sign * size;
    this.#reservedBeyondFirst += sign * (primary ? size - 1 : size);
  }

  /** @internal */ admit(queue: ScheduledQueue, message: Message): Delivery {
    const delivery = new Delivery(queue.target, message, this.#options.keeper);
    this.#byMessageId.set(delivery.messageId, delivery);
    delivery.onFinish((finished, end) => this.#finished(queue, finished, end));
    if (queue.buffer.length === 0) {
      queue.pass = Math.max(queue.pass, this.#virtualTime);
      this.#ready.add(queue);
    }
    this.#buffered += 1;
    return delivery;
  }

  /** @internal */ unready(queue: ScheduledQueue): void {
    if (queue.buffer.length === 0) this.#ready.delete(queue);
  }

  /** @internal */ ready(queue: ScheduledQueue): void {
    if (queue.buffer.length > 0) this.#ready.add(queue);
  }

  /** @internal */ movedToGiveBack(count: number): void {
    this.#buffered -= count;
    this.#givingBack += count;
  }

  /** @internal */ movedToBuffer(count: number): void {
    this.#givingBack -= count;
    this.#buffered += count;
  }

  /** @internal */ released(deliveries: readonly Delivery[], why: string): void {
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
    if (this.#byMessageId.get(delivery.messageId) === delivery) this.#byMessageId.delete(delivery.messageId);
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

/** One physical queue's buffer, receives under way, and running count. */
class ScheduledQueue implements ReceiveRoom {
  readonly target: PollTarget;
  readonly weight: number;
  readonly buffer: Delivery[] = [];
  /** Paused or draining: deliveries waiting for this queue's receives to return before they go back. */
  readonly givingBack: Delivery[] = [];
  /** Stride-scheduling position: the lowest goes next. */
  pass = 0;
  readonly #scheduler: Scheduler;
  readonly #group: ConcurrencyGroup;
  readonly #prefetch: number;
  /** Largest run to start at once: a batch handler's batch size, else 1. */
  readonly #batchSize: number;
  #running = 0;
  /** FIFO message groups with a running message. */
  readonly #runningGroups = new Map<string, number>();
  #receivesUnderWay = 0;
  #asked = 0;
  #gatherTimer: NodeJS.Timeout | undefined;
  #gathered = false;
  #lastStartAt: number | undefined;
  #starvedSince: number | undefined;
  readonly #roomWaiters = new Set<() => void>();
  /** Why the give-back list is going back, for the log line. */
  #why = "";

  constructor(scheduler: Scheduler, target: PollTarget, group: ConcurrencyGroup, prefetch: number) {
    this.#scheduler = scheduler;
    this.target = target;
    this.#group = group;
    this.weight = target.queue.options.weight ?? 1;
    const handler = target.queue.handler;
    this.#batchSize = handler?.kind === "batch" ? handler.batchSize : 1;
    // A batch handler's buffer holds at least one batch, or its batches could never be full.
    this.#prefetch = Math.max(prefetch, this.#batchSize);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  receiveSize(want: number, primary: boolean): number {
    const scheduler = this.#scheduler;
    if (scheduler.stopped) return 0;
    const ownRoom = this.#prefetch - this.buffer.length - this.#asked;
    return Math.max(
      0,
      Math.min(want, SQS_LIMITS.maxBatchEntries, ownRoom, scheduler.globalRoom(primary), scheduler.budgetRoom(this)),
    );
  }

  roomChanged(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        this.#roomWaiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#roomWaiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  beginReceive(size: number, primary: boolean): void {
    this.#receivesUnderWay += 1;
    this.#asked += size;
    this.#scheduler.asked(size, primary, 1);
  }

  endReceive(size: number, primary: boolean, messages: readonly Message[]): void {
    this.#receivesUnderWay -= 1;
    this.#asked -= size;
    this.#scheduler.asked(size, primary, -1);
    for (const message of messages) {
      const delivery = this.#scheduler.admit(this, message);
      this.buffer.push(delivery);
    }
    if (this.#scheduler.stopped) this.giveBackBuffer("gave back messages received while paused or draining");
    else this.#scheduler.pump();
    this.flushGivingBack(false);
    this.notifyRoom();
    this.#scheduler.budgetChanged();
  }

  notifyRoom(): void {
    for (const waiter of [...this.#roomWaiters]) waiter();
  }

  /** Whether a run can start now: a startable delivery, room under `concurrency`, not gathering a batch. */
  canStart(): boolean {
    return this.#gatherTimer === undefined && this.#group.running < this.#group.limit && this.#startable(1).length > 0;
  }

  /** Takes the next run's deliveries (up to `freeSlots`), marks them running, and returns them. */
  take(freeSlots: number): Delivery[] {
    const limit = Math.min(this.#batchSize, freeSlots, this.#group.limit - this.#group.running);
    if (this.#batchSize > 1 && !this.#gathered) {
      // Slots free up a few at a time under load; a moment's wait fills the batch instead of splitting it.
      const wanted = this.#startable(this.#batchSize).length;
      if (limit < wanted) {
        this.#gatherTimer ??= setTimeout(() => {
          this.#gatherTimer = undefined;
          this.#gathered = true;
          this.#scheduler.pump();
        }, this.#scheduler.gatherMs);
        return [];
      }
    }
    this.#gathered = false;
    const taken = this.#startable(limit);
    for (const delivery of taken) {
      this.buffer.splice(this.buffer.indexOf(delivery), 1);
      delivery.markRunning();
      if (delivery.groupId !== "" && this.target.queue.fifo) {
        this.#runningGroups.set(delivery.groupId, (this.#runningGroups.get(delivery.groupId) ?? 0) + 1);
      }
    }
    this.#running += taken.length;
    this.#group.running += taken.length;
    this.#lastStartAt = Date.now();
    this.#starvedSince = undefined;
    this.#scheduler.unready(this);
    this.notifyRoom();
    return taken;
  }

  /** A running delivery finished: its slot comes back. */
  stopped(delivery: Delivery): void {
    this.#running -= 1;
    this.#group.running -= 1;
    const group = delivery.groupId;
    if (group !== "" && this.target.queue.fifo) {
      const left = (this.#runningGroups.get(group) ?? 1) - 1;
      if (left > 0) this.#runningGroups.set(group, left);
      else this.#runningGroups.delete(group);
    }
  }

  /** Removes a delivery that was waiting to go back; false if it was not there. */
  forget(delivery: Delivery): boolean {
    const index = this.givingBack.indexOf(delivery);
    if (index === -1) {
      const buffered = this.buffer.indexOf(delivery);
      if (buffered !== -1) {
        this.buffer.splice(buffered, 1);
        this.#scheduler.unready(this);
      }
      return false;
    }
    this.givingBack.splice(index, 1);
    return true;
  }

  /** Moves every buffered delivery to the give-back list and releases what may go now. */
  giveBackBuffer(why: string): void {
    if (this.buffer.length === 0) return;
    const moved = this.buffer.splice(0);
    for (const delivery of moved) delivery.markGivingBack();
    this.givingBack.push(...moved);
    this.#scheduler.movedToGiveBack(moved.length);
    this.#scheduler.unready(this);
    this.#why = why;
    this.flushGivingBack(false);
  }

  /** Sends the give-back list to SQS, once no receive of ours waits on this queue (or when `force`d). */
  flushGivingBack(force: boolean): void {
    if (this.givingBack.length === 0 || (!force && this.#receivesUnderWay > 0)) return;
    const deliveries = this.givingBack.slice();
    this.#scheduler.released(deliveries, this.#why);
  }

  /** Resumed: deliveries not yet given back rejoin the front of the buffer, in their order. */
  takeBackUnreleased(): void {
    if (this.givingBack.length === 0) return;
    const back = this.givingBack.splice(0);
    for (const delivery of back) delivery.markBuffered();
    this.buffer.unshift(...back);
    this.#scheduler.movedToBuffer(back.length);
    this.#scheduler.ready(this);
  }

  /** A FIFO message did not succeed: its group's buffered messages go back, behind it. */
  giveBackGroup(groupId: string): void {
    const rest = this.buffer.filter((delivery) => delivery.groupId === groupId);
    if (rest.length === 0) return;
    this.#scheduler.released(rest, "gave back later messages of a FIFO group after a failure, to keep its order");
  }

  load(slotFree: boolean, now: number): QueueLoad {
    if (slotFree && this.#group.running < this.#group.limit && this.#startable(1).length > 0) {
      this.#starvedSince ??= now;
    } else {
      this.#starvedSince = undefined;
    }
    return {
      queue: this.target.fullName,
      buffered: this.buffer.length,
      running: this.#running,
      starvedSince: this.#starvedSince,
      lastStartAt: this.#lastStartAt,
    };
  }

  /**
   * Up to `count` deliveries that may start now, in buffer order. On a FIFO queue a delivery may start only
   * when no message of its group is running; a batch takes a group's messages in their order.
   */
  #startable(count: number): Delivery[] {
    if (count <= 0) return [];
    if (!this.target.queue.fifo) return this.buffer.slice(0, count);
    const result: Delivery[] = [];
    for (const delivery of this.buffer) {
      if (result.length >= count) break;
      if (!this.#runningGroups.has(delivery.groupId)) result.push(delivery);
    }
    return result;
  }
}
