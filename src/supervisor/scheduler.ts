import type { Message } from "@aws-sdk/client-sqs";
import { ConcurrencyGroup } from "./concurrency-group.js";
import { Delivery, type FinishedDelivery } from "./delivery.js";
import { Generation } from "./generation.js";
import { PrefetchQueue, type SchedulerLedger } from "./prefetch-queue.js";
import type { QueueLoad, ReceiveRoom } from "./receive-room.js";
import { RoomWatch } from "./room-watch.js";
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

export type { QueueLoad, ReceiveRoom } from "./receive-room.js";

/**
 * Decides which received message runs next. Every physical queue has a bounded prefetch buffer of deliveries
 * ({@link PrefetchQueue}); free pool slots go to them across queues in proportion to each receiver's `weight`
 * (stride scheduling: a queue's "pass" advances by 1/weight per message started, and the lowest pass goes
 * next), first in first out within a queue, and strictly in order within a FIFO message group.
 *
 * Each queue owns its counts (buffered, running, giving back, asked, receives under way); the scheduler owns
 * only what spans queues (processed, the stride clock, paused or draining) and derives its totals from the
 * queues', so no count is kept twice. A delivery's {@link Delivery.finish} is the only way a slot comes back.
 * Waits are level-triggered: a poller's wait for room is on its own queue's changes, and on the scheduler's
 * {@link RoomWatch} when a term across queues holds it (the buffer ceiling, the message limit, a pause), which
 * nudges it once that term meets its need; a drain's wait for idle is on a {@link Generation} every change
 * advances. A wait cannot miss a change, and a change wakes only the waits it may end.
 *
 * Paused or draining, nothing starts and buffered messages go back to SQS. A message goes back only once no
 * receive of ours is waiting on its queue: released earlier, our own long poll could take it again at once.
 */
export class Scheduler implements SchedulerLedger {
  readonly #options: SchedulerOptions;
  readonly #queues = new Map<PollTarget, PrefetchQueue>();
  /** Queues with at least one buffered delivery: an index, re-read from each queue as it changes. */
  readonly #ready = new Set<PrefetchQueue>();
  /** Every delivery held here, by its own id (not MessageId: two copies of one message are two deliveries). */
  readonly #byId = new Map<number, Delivery>();
  /** Every change of any queue: the drain's wait for idle handlers re-checks on it. */
  readonly #changes = new Generation();
  readonly #roomWatch: RoomWatch = new RoomWatch(this);
  #processed = 0;
  #virtualTime = 0;
  #paused = false;
  #draining = false;
  /** Releases under way: starts wait until every delivery of the release has left its buffer. */
  #releasing = 0;

  constructor(targets: readonly PollTarget[], options: SchedulerOptions) {
    this.#options = options;
    const groups = new Map<string, ConcurrencyGroup>();
    // Idle long polls together may reserve half of the buffer ceiling, each queue by its weight: the other half
    // stays for queues with a backlog, which would otherwise find it all held by polls that bring nothing.
    const totalWeight = targets.reduce((sum, target) => sum + (target.queue.options.weight ?? 1), 0);
    const idleReserve = (target: PollTarget): number =>
      Math.floor((options.maxBuffered / 2) * ((target.queue.options.weight ?? 1) / totalWeight));
    for (const target of targets) {
      const name = target.queue.name;
      let group = groups.get(name);
      if (!group) {
        group = new ConcurrencyGroup(target.queue.options.concurrency ?? Number.POSITIVE_INFINITY);
        groups.set(name, group);
      }
      this.#queues.set(target, new PrefetchQueue(this, target, group, options.prefetch, idleReserve(target)));
    }
  }

  /** The receive side of one queue, for its poller. */
  room(target: PollTarget): ReceiveRoom {
    const queue = this.#queues.get(target);
    if (!queue) throw new Error(`no prefetch queue for ${target.fullName}`);
    return queue;
  }

  /** Messages running now. */
  get running(): number {
    return this.#sum((queue) => queue.running);
  }

  /** Messages waiting in buffers now. */
  get buffered(): number {
    return this.#sum((queue) => queue.buffered);
  }

  /** Messages held now: buffered, running, or waiting to go back. */
  get held(): number {
    return this.#sum((queue) => queue.buffered + queue.running + queue.givingBack);
  }

  /** Messages whose handlers had their turn. */
  get processed(): number {
    return this.#processed;
  }

  /** A delivery held here, by its id, for a handler's extendVisibility request. */
  find(deliveryId: number): Delivery | undefined {
    return this.#byId.get(deliveryId);
  }

  /** The deliveries running now, across queues (a copy: stopping them may finish some). */
  runningDeliveries(): Delivery[] {
    return [...this.#queues.values()].flatMap((queue) => [...queue.runningDeliveries()]);
  }

  /** Each queue's buffered and running counts. */
  loads(now = Date.now()): QueueLoad[] {
    const free = this.running < this.#options.maxInFlight && !this.#paused && !this.#draining;
    return [...this.#queues.values()].map((queue) => queue.load(free, now));
  }

  /** Starts nothing more; buffered messages go back (once no receive of ours waits on their queue). */
  pause(): void {
    this.#paused = true;
    this.#stopChanged();
    for (const queue of this.#queues.values()) queue.giveBackBuffer("gave back buffered messages: paused");
  }

  /** Starts messages again; those still waiting to go back rejoin their buffers. */
  resume(): void {
    this.#paused = false;
    for (const queue of this.#queues.values()) queue.takeBackUnreleased();
    this.#stopChanged();
    this.pump();
  }

  /** A drain begins: nothing more starts, and buffered messages go back. */
  beginDrain(): void {
    this.#draining = true;
    this.#stopChanged();
    for (const queue of this.#queues.values()) queue.giveBackBuffer("gave back buffered messages at shutdown");
  }

  /** Releases everything still waiting to go back, whatever receives are under way (the pollers have stopped). */
  releaseAll(): void {
    for (const queue of this.#queues.values()) queue.flushGivingBack(true);
  }

  /** True once nothing runs; false if `timeoutMs` passed first. */
  async waitUntilIdle(timeoutMs: number): Promise<boolean> {
    const deadline = AbortSignal.timeout(timeoutMs);
    while (this.running > 0 && !deadline.aborted) await this.#changes.after(this.#changes.value, deadline);
    return this.running === 0;
  }

  /** Hands free slots to buffered messages, fairly, until slots or startable messages run out. */
  pump(): void {
    // Nothing buffered (every receive of an idle daemon): #pick would find nothing, and `running` sums every queue.
    if (this.#paused || this.#draining || this.#releasing > 0 || this.#ready.size === 0) return;
    const { maxInFlight } = this.#options;
    // Re-read each turn: starting a run can finish deliveries at once (a drain that timed out), and pump again.
    for (let running = this.running; running < maxInFlight; running = this.running) {
      const queue = this.#pick();
      if (!queue) return;
      // A queue that was blocked (its group running, its concurrency full) or away starts at the current
      // pass: being owed turns would otherwise let it take a burst of slots.
      queue.catchUp(this.#virtualTime);
      const deliveries = queue.take(maxInFlight - running, maxInFlight);
      // The next queue is gathering slots for a fuller batch: keep the free ones for it (up to gatherMs).
      if (!deliveries) return;
      this.#virtualTime = queue.pass;
      queue.charge(deliveries.length);
      this.#options.start(deliveries);
    }
  }

  /** The startable queue with the lowest pass. */
  #pick(): PrefetchQueue | undefined {
    let best: PrefetchQueue | undefined;
    for (const queue of this.#ready) {
      if (!queue.canStart()) continue;
      if (!best || queue.pass < best.pass) best = queue;
    }
    return best;
  }

  /** Paused, resumed or draining: every wait re-checks. */
  #stopChanged(): void {
    this.#changes.advance();
    this.#roomWatch.nudgeAll();
  }

  #sum(count: (queue: PrefetchQueue) => number): number {
    let total = 0;
    for (const queue of this.#queues.values()) total += count(queue);
    return total;
  }

  // SchedulerLedger: what each PrefetchQueue reads of the state across queues (documented on the interface).

  get gatherMs(): number {
    return this.#options.gatherMs ?? 20;
  }

  get stopped(): boolean {
    return this.#paused || this.#draining;
  }

  get virtualTime(): number {
    return this.#virtualTime;
  }

  sharedLimit(primary: boolean): number {
    const room = this.#options.maxBuffered - this.#sum((queue) => queue.buffered + queue.askedBeyondFirst);
    const globalRoom = primary ? 1 + Math.max(0, room) : Math.max(0, room);
    return Math.min(globalRoom, primary ? this.budgetLeft() : this.budgetUnasked());
  }

  roomHeld(need: number, primary: boolean): boolean {
    return this.#roomWatch.holds(need, primary);
  }

  watchRoom(queue: PrefetchQueue, need: number, primary: boolean): void {
    this.#roomWatch.watch(queue, need, primary);
  }

  unwatchRoom(queue: PrefetchQueue): void {
    this.#roomWatch.unwatch(queue);
  }

  /**
   * Messages the message limit still lets in: the limit less those processed and those held. It counts
   * messages received, not asked for: every queue keeps its long poll waiting, each asking at most this much,
   * and what receives bring beyond it goes back at once (see {@link PrefetchQueue.endReceive}). Counting
   * what was asked for let idle long polls on other queues hold the last of the budget while the queue whose
   * message had just arrived sent no receive at all.
   */
  budgetLeft(): number {
    const limit = this.#options.messageLimit;
    return limit === undefined ? Number.POSITIVE_INFINITY : limit - this.#processed - this.held;
  }

  /**
   * What the message limit leaves beyond every receive under way: the most an extra lane may ask for. Only a
   * queue's primary lane asks against the whole of {@link Scheduler.budgetLeft}; extra lanes asking against it
   * too would over-receive on one queue and give back what a lane of the same queue could take again.
   */
  budgetUnasked(): number {
    if (this.#options.messageLimit === undefined) return Number.POSITIVE_INFINITY;
    return this.budgetLeft() - this.#sum((queue) => queue.asked);
  }

  admit(queue: PrefetchQueue, message: Message): Delivery {
    const delivery = new Delivery(queue.target, message, this.#options.keeper);
    this.#byId.set(delivery.id, delivery);
    delivery.onFinish((finished, end) => this.#finished(queue, finished, end));
    return delivery;
  }

  changed(queue: PrefetchQueue): void {
    if (queue.buffered > 0) this.#ready.add(queue);
    else this.#ready.delete(queue);
    this.#changes.advance();
    this.#roomWatch.check();
  }

  release(deliveries: readonly Delivery[], why: string): void {
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

  #finished(queue: PrefetchQueue, delivery: Delivery, end: FinishedDelivery): void {
    this.#byId.delete(delivery.id);
    if (end.counted) this.#processed += 1;
    queue.finished(delivery, end);
    if (end.counted) this.#options.onProcessed?.(this.#processed);
    this.pump();
  }
}
