import type { Message } from "@aws-sdk/client-sqs";
import { SQS_LIMITS } from "../limits.js";
import { BatchGather } from "./batch-gather.js";
import type { ConcurrencyGroup } from "./concurrency-group.js";
import type { Delivery, FinishedDelivery } from "./delivery.js";
import { Generation } from "./generation.js";
import type { QueueLoad, ReceiveRoom } from "./receive-room.js";
import { ReceivesUnderWay } from "./receives-under-way.js";
import { RunningGroups } from "./running-groups.js";
import type { SchedulerLedger as Ledger } from "./scheduler-ledger.js";
import type { PollTarget } from "./target.js";

/** The scheduler, as a queue sees it. */
export type SchedulerLedger = Ledger<PrefetchQueue>;

/**
 * One physical queue's prefetch buffer: the deliveries received and waiting for a slot, those waiting to go
 * back, those running, and the receives under way. It is the one owner of those counts; the scheduler derives
 * its totals from every queue's, and no one else writes them.
 */
export class PrefetchQueue implements ReceiveRoom {
  readonly target: PollTarget;
  readonly weight: number;
  readonly #buffer: Delivery[] = [];
  /** Paused or draining: deliveries waiting for this queue's receives to return before they go back. */
  readonly #givingBack: Delivery[] = [];
  readonly #running = new Set<Delivery>();
  /** Stride-scheduling position: the lowest goes next. */
  #pass = 0;
  readonly #scheduler: SchedulerLedger;
  readonly #group: ConcurrencyGroup;
  readonly #prefetch: number;
  readonly idleWant: number;
  /** Largest run to start at once: a batch handler's batch size, else 1. */
  readonly #batchSize: number;
  /** FIFO message groups with a running message, and what may start in their order. */
  readonly #groups: RunningGroups;
  readonly #receives = new ReceivesUnderWay();
  readonly #gather: BatchGather;
  #lastStartAt: number | undefined;
  #starvedSince: number | undefined;
  /** Why the give-back list is going back, for the log line. */
  #why = "";
  /** Changes of this queue's counts, and nudges from the scheduler: its poller's wait for room is on it. */
  readonly #changes = new Generation();

  /**
   * `idleReserve` is this queue's share of the buffer ceiling an idle long poll may reserve beyond its first
   * message (see {@link ReceiveRoom.idleWant}).
   */
  constructor(
    scheduler: SchedulerLedger,
    target: PollTarget,
    group: ConcurrencyGroup,
    prefetch: number,
    idleReserve: number,
  ) {
    this.#scheduler = scheduler;
    this.target = target;
    this.#group = group;
    this.weight = target.queue.options.weight ?? 1;
    const handler = target.queue.handler;
    this.#batchSize = handler?.kind === "batch" ? handler.batchSize : 1;
    this.#groups = new RunningGroups(target.queue.fifo);
    this.#gather = new BatchGather(scheduler.gatherMs, () => scheduler.pump());
    // A batch handler's buffer holds at least one batch, or its batches could never be full. With a visibility
    // timeout of 0 nothing can be kept hidden: a buffered message would be received again, so hold just one.
    this.#prefetch = target.visibilityTimeoutSeconds === 0 ? 1 : Math.max(prefetch, this.#batchSize);
    this.idleWant = Math.max(this.#batchSize, Math.min(SQS_LIMITS.maxBatchEntries, 1 + idleReserve));
    group.add(this);
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  get running(): number {
    return this.#running.size;
  }

  /** Deliveries waiting to go back to SQS (paused or draining). */
  get givingBack(): number {
    return this.#givingBack.length;
  }

  get receivesUnderWay(): number {
    return this.#receives.count;
  }

  /** Messages asked for by this queue's receives under way. */
  get asked(): number {
    return this.#receives.asked;
  }

  /** Messages asked for by receives under way beyond a primary lane's first: reserved under maxBuffered. */
  get askedBeyondFirst(): number {
    return this.#receives.askedBeyondFirst;
  }

  get pass(): number {
    return this.#pass;
  }

  get generation(): number {
    return this.#changes.value;
  }

  /** The deliveries running now. */
  runningDeliveries(): Iterable<Delivery> {
    return this.#running;
  }

  get waitingToStart(): number {
    // On a FIFO queue, messages behind a running message of their group cannot start whatever the slots.
    // SQS returns no more of a group while one of its messages is in flight, so new receives bring other
    // groups: those blocked messages must not hold the queue's receives back (maxBuffered still bounds them).
    return this.target.queue.fifo ? this.#startable(this.#buffer.length).length : this.#buffer.length;
  }

  receiveSize(want: number, primary: boolean): number {
    const scheduler = this.#scheduler;
    if (scheduler.stopped) return 0;
    // A primary lane leaves out a stuck receive of the lane a watchdog restart demoted (askedBefore).
    const ownRoom = this.#prefetch - this.waitingToStart - this.#receives.askedBefore(primary);
    return Math.max(0, Math.min(want, SQS_LIMITS.maxBatchEntries, ownRoom, scheduler.sharedLimit(primary)));
  }

  roomChanged(generation: number, need: number, primary: boolean, signal: AbortSignal): Promise<void> {
    const wait = this.#changes.after(generation, signal);
    // Every change of this queue's own counts ends the wait. A term across queues that holds the receive below
    // `need` ends it only through the scheduler's watch, when that term meets the need: other queues' changes
    // wake no one else (see RoomWatch).
    if (this.#changes.value === generation && !signal.aborted && this.#scheduler.roomHeld(need, primary)) {
      this.#scheduler.watchRoom(this, need, primary);
      void wait.then(() => {
        if (!this.#changes.waiting) this.#scheduler.unwatchRoom(this);
      });
    }
    return wait;
  }

  /** The scheduler's watch: the terms across queues may now allow this queue's waiting receive. */
  nudge(): void {
    this.#changes.advance();
  }

  beginReceive(size: number, primary: boolean): void {
    this.#receives.begin(size, primary);
    this.#changed();
  }

  endReceive(size: number, primary: boolean, messages: readonly Message[]): void {
    this.#receives.end(size, primary);
    // What the message limit lets in of these, as it stands before they join: every queue asks for up to what
    // is left, so receives that end together may bring more than that between them.
    const allowed = this.#scheduler.stopped ? messages.length : Math.max(0, this.#scheduler.budgetLeft());
    if (messages.length > 0 && this.#buffer.length === 0) this.catchUp(this.#scheduler.virtualTime);
    const admitted = messages.map((message) => this.#scheduler.admit(this, message));
    this.#buffer.push(...admitted);
    // The rest go back at once (visibility 0), uncounted. They are the tail of this receive, so on a FIFO
    // queue a group's later messages go back with its first one given back, and its order holds.
    const excess = admitted.slice(allowed);
    if (excess.length > 0) this.#scheduler.release(excess, "gave back messages received beyond the message limit");
    if (this.#scheduler.stopped) this.giveBackBuffer("gave back messages received while paused or draining");
    this.flushGivingBack(false);
    this.#changed();
    this.#scheduler.pump();
  }

  /** Whether a run can start now: a startable delivery and room under `concurrency`. */
  canStart(): boolean {
    return this.#group.room > 0 && this.#startable(1).length > 0;
  }

  /** Moves this queue's pass up to `virtualTime`: a queue that was blocked or away earns no burst of turns. */
  catchUp(virtualTime: number): void {
    this.#pass = Math.max(this.#pass, virtualTime);
  }

  /** Charges this queue for `started` messages: its pass advances by 1/weight each. */
  charge(started: number): void {
    this.#pass += started / this.weight;
  }

  /**
   * Takes the next run's deliveries (up to `freeSlots` of the pool's `maxSlots`), marks them running, and
   * returns them; or returns undefined while a batch handler's queue gathers slots for a fuller batch, and
   * the scheduler then keeps the free slots for it.
   */
  take(freeSlots: number, maxSlots: number): Delivery[] | undefined {
    const groupRoom = this.#group.room;
    const limit = Math.min(this.#batchSize, freeSlots, groupRoom);
    // A batch handler's run waits a moment for more free slots, below what this queue could get at once.
    if (this.#batchSize > 1) {
      const wanted = Math.min(this.#startable(this.#batchSize).length, maxSlots, groupRoom);
      if (this.#gather.waits(limit, wanted)) return undefined;
    }
    this.#gather.reset();
    const taken = this.#startable(limit);
    for (const delivery of taken) {
      this.#buffer.splice(this.#buffer.indexOf(delivery), 1);
      this.#running.add(delivery);
      delivery.markRunning();
      this.#groups.started(delivery);
    }
    this.#lastStartAt = Date.now();
    this.#starvedSince = undefined;
    this.#changed();
    return taken;
  }

  /**
   * A delivery of this queue finished, wherever it was: a running one gives its slot back, a buffered or
   * giving-back one leaves its list. A FIFO message that ran and did not succeed sends its group's buffered
   * messages back behind it, so they cannot run out of order.
   */
  finished(delivery: Delivery, end: FinishedDelivery): void {
    if (this.#running.delete(delivery)) {
      this.#groups.ended(delivery);
    } else {
      remove(this.#givingBack, delivery);
      remove(this.#buffer, delivery);
    }
    this.#changed();
    if (this.target.queue.fifo && end.heldSlot && !end.succeeded && delivery.groupId !== "") {
      this.#giveBackGroup(delivery.groupId);
    }
  }

  /** Moves every buffered delivery to the give-back list and releases what may go now. */
  giveBackBuffer(why: string): void {
    if (this.#buffer.length === 0) return;
    const moved = this.#buffer.splice(0);
    for (const delivery of moved) delivery.markGivingBack();
    this.#givingBack.push(...moved);
    this.#why = why;
    this.#changed();
    this.flushGivingBack(false);
  }

  /** Sends the give-back list to SQS, once no receive of ours waits on this queue (or when `force`d). */
  flushGivingBack(force: boolean): void {
    if (this.#givingBack.length === 0 || (!force && this.#receives.count > 0)) return;
    this.#scheduler.release(this.#givingBack.slice(), this.#why);
  }

  /** Resumed: deliveries not yet given back rejoin the front of the buffer, in their order. */
  takeBackUnreleased(): void {
    if (this.#givingBack.length === 0) return;
    const back = this.#givingBack.splice(0);
    for (const delivery of back) delivery.markBuffered();
    this.#buffer.unshift(...back);
    this.#changed();
  }

  /**
   * A FIFO message did not succeed: its group's later messages go back now, behind it. Those on the give-back
   * list go too: a resume would otherwise put them back in the buffer and start them before the failed one's
   * redelivery (a counterexample of the model test).
   */
  #giveBackGroup(groupId: string): void {
    const rest = [...this.#givingBack, ...this.#buffer].filter((delivery) => delivery.groupId === groupId);
    if (rest.length === 0) return;
    this.#scheduler.release(rest, "gave back later messages of a FIFO group after a failure, to keep its order");
  }

  load(slotFree: boolean, now: number): QueueLoad {
    if (slotFree && this.canStart()) {
      this.#starvedSince ??= now;
    } else {
      this.#starvedSince = undefined;
    }
    return {
      queue: this.target.fullName,
      fifo: this.target.queue.fifo,
      buffered: this.#buffer.length,
      running: this.#running.size,
      starvedSince: this.#starvedSince,
      lastStartAt: this.#lastStartAt,
    };
  }

  /** This queue's counts changed: its waits re-check, and the scheduler re-reads them. */
  #changed(): void {
    this.#changes.advance();
    this.#scheduler.changed(this);
  }

  /** Up to `count` deliveries that may start now, in buffer order and FIFO group order. */
  #startable(count: number): Delivery[] {
    return this.#groups.startable(this.#buffer, count);
  }
}

/** Removes `item` from `list` if it is there. */
function remove<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index !== -1) list.splice(index, 1);
}
