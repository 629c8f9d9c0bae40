import type { Message } from "@aws-sdk/client-sqs";
import { SQS_LIMITS } from "../limits.js";
import { nextNotification } from "../util/notify.js";
import type { Delivery } from "./delivery.js";
import type { PollTarget } from "./target.js";

/** One queue's share of the scheduler, as status pages and the watchdog read it. */
export interface QueueLoad {
  readonly queue: string;
  readonly fifo: boolean;
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
   * full, the message limit is reached, or the scheduler is paused or draining: the poller then waits for
   * {@link ReceiveRoom.roomChanged}.
   * An extra lane (`primary` false) gets nothing past the global ceiling: only the primary lane always listens.
   */
  receiveSize(want: number, primary: boolean): number;
  /** Messages of this queue waiting in its buffer. */
  readonly buffered: number;
  /**
   * Buffered messages that could start as soon as a slot frees: all of them, except on a FIFO queue those
   * behind a running message of their group.
   */
  readonly waitingToStart: number;
  /** Resolves when the room may have grown, or when `signal` aborts. */
  roomChanged(signal: AbortSignal): Promise<void>;
  /** A receive of `size` messages is under way. */
  beginReceive(size: number, primary: boolean): void;
  /** It returned: the messages join the buffer (or go back, when paused or draining). */
  endReceive(size: number, primary: boolean, messages: readonly Message[]): void;
}

/** A registered queue's `concurrency`, shared by its suffixed variants. */
export interface ConcurrencyGroup {
  readonly limit: number;
  running: number;
}

/**
 * What a queue needs from the scheduler that owns it: the totals across queues. The Scheduler implements it;
 * this file never imports the scheduler, so the two stay one-way.
 */
export interface SchedulerLedger {
  /** Paused or draining: nothing starts, and received messages go back. */
  readonly stopped: boolean;
  /** How long a batch handler's start may wait for more free slots. */
  readonly gatherMs: number;
  /** Room under the global buffer ceiling (the primary lane always gets one). */
  globalRoom(primary: boolean): number;
  /** Messages the message limit still lets in (received, not asked for); infinite without a limit. */
  budgetLeft(): number;
  /** Counts a receive's size in (+1) or out (-1). */
  asked(size: number, primary: boolean, sign: 1 | -1): void;
  /** Turns a received message into a buffered delivery, counted. */
  admit(queue: ScheduledQueue, message: Message): Delivery;
  /** Hands free slots to buffered messages. */
  pump(): void;
  /** The queue's buffer may have emptied (or filled): it leaves (or joins) the ready set. */
  unready(queue: ScheduledQueue): void;
  ready(queue: ScheduledQueue): void;
  /** Deliveries moved between the buffer and the give-back list. */
  movedToGiveBack(count: number): void;
  movedToBuffer(count: number): void;
  /** Gives deliveries back to SQS and finishes them. */
  released(deliveries: readonly Delivery[], why: string): void;
  /** A receive ended or a delivery finished: queues waiting on the message limit may go on. */
  budgetChanged(): void;
}

/** One physical queue's buffer, receives under way, and running count. */
export class ScheduledQueue implements ReceiveRoom {
  readonly target: PollTarget;
  readonly weight: number;
  readonly buffer: Delivery[] = [];
  /** Paused or draining: deliveries waiting for this queue's receives to return before they go back. */
  readonly givingBack: Delivery[] = [];
  /** Stride-scheduling position: the lowest goes next. */
  pass = 0;
  readonly #scheduler: SchedulerLedger;
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

  constructor(scheduler: SchedulerLedger, target: PollTarget, group: ConcurrencyGroup, prefetch: number) {
    this.#scheduler = scheduler;
    this.target = target;
    this.#group = group;
    this.weight = target.queue.options.weight ?? 1;
    const handler = target.queue.handler;
    this.#batchSize = handler?.kind === "batch" ? handler.batchSize : 1;
    // A batch handler's buffer holds at least one batch, or its batches could never be full. With a visibility
    // timeout of 0 nothing can be kept hidden: a buffered message would be received again, so hold just one.
    this.#prefetch = target.visibilityTimeoutSeconds === 0 ? 1 : Math.max(prefetch, this.#batchSize);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  get waitingToStart(): number {
    // On a FIFO queue, messages behind a running message of their group cannot start whatever the slots.
    // SQS returns no more of a group while one of its messages is in flight, so new receives bring other
    // groups: those blocked messages must not hold the queue's receives back (maxBuffered still bounds them).
    return this.target.queue.fifo ? this.#startable(this.buffer.length).length : this.buffer.length;
  }

  receiveSize(want: number, primary: boolean): number {
    const scheduler = this.#scheduler;
    if (scheduler.stopped) return 0;
    const ownRoom = this.#prefetch - this.waitingToStart - this.#asked;
    return Math.max(
      0,
      Math.min(want, SQS_LIMITS.maxBatchEntries, ownRoom, scheduler.globalRoom(primary), scheduler.budgetLeft()),
    );
  }

  roomChanged(signal: AbortSignal): Promise<void> {
    return nextNotification(this.#roomWaiters, signal);
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
    // What the message limit lets in of these, as it stands before they join: every queue asks for up to what
    // is left, so receives that end together may bring more than that between them.
    const allowed = this.#scheduler.stopped ? messages.length : Math.max(0, this.#scheduler.budgetLeft());
    const admitted = messages.map((message) => {
      const delivery = this.#scheduler.admit(this, message);
      this.buffer.push(delivery);
      return delivery;
    });
    // The rest go back at once (visibility 0), uncounted. They are the tail of this receive, so on a FIFO
    // queue a group's later messages go back with its first one given back, and its order holds.
    const excess = admitted.slice(allowed);
    if (excess.length > 0) this.#scheduler.released(excess, "gave back messages received beyond the message limit");
    if (this.#scheduler.stopped) this.giveBackBuffer("gave back messages received while paused or draining");
    else this.#scheduler.pump();
    this.flushGivingBack(false);
    this.notifyRoom();
    this.#scheduler.budgetChanged();
  }

  notifyRoom(): void {
    for (const waiter of [...this.#roomWaiters]) waiter();
  }

  /** Whether a run can start now: a startable delivery and room under `concurrency`. */
  canStart(): boolean {
    return this.#group.running < this.#group.limit && this.#startable(1).length > 0;
  }

  /**
   * Takes the next run's deliveries (up to `freeSlots` of the pool's `maxSlots`), marks them running, and
   * returns them; or returns undefined while a batch handler's queue gathers slots for a fuller batch, and
   * the scheduler then keeps the free slots for it.
   */
  take(freeSlots: number, maxSlots: number): Delivery[] | undefined {
    const groupRoom = this.#group.limit - this.#group.running;
    const limit = Math.min(this.#batchSize, freeSlots, groupRoom);
    if (this.#batchSize > 1 && !this.#gathered) {
      // Slots free up a few at a time under load; a moment's wait fills the batch instead of splitting it.
      // Only worth it below what this queue could ever get at once.
      const wanted = Math.min(this.#startable(this.#batchSize).length, maxSlots, groupRoom);
      if (limit < wanted) {
        this.#gatherTimer ??= setTimeout(() => {
          this.#gatherTimer = undefined;
          this.#gathered = true;
          this.#scheduler.pump();
        }, this.#scheduler.gatherMs);
        return undefined;
      }
    }
    clearTimeout(this.#gatherTimer);
    this.#gatherTimer = undefined;
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
      fifo: this.target.queue.fifo,
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
