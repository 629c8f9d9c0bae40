import { SQS_LIMITS } from "../limits.js";

/**
 * What one poller asks SQS for next, and when it holds a smaller receive back. A receive costs the same
 * whatever it asks for; what an ask costs is the room it reserves against the buffer ceiling while it waits,
 * which the scheduler's room bounds (see "What a receive asks for" in docs/architecture.md).
 */
export class ReceiveAsk {
  /** A batch handler's batch size: asking for less would split its batches. */
  readonly #minWant: number;
  /** What the queue asks for while idle: its share of the buffer ceiling (`ReceiveRoom.idleWant`). */
  readonly #idleWant: number;
  #want: number;
  /** Whether the last receive came back full: SQS had at least as many as asked, so a backlog may wait there. */
  #backlog = false;

  constructor(minWant: number, idleWant: number) {
    this.#minWant = minWant;
    this.#idleWant = Math.max(minWant, idleWant);
    this.#want = this.#idleWant;
  }

  /**
   * Messages to ask for next: the idle ask at start and after an empty or partial receive (SQS had no more), a
   * full batch of 10 after a full one (it may have more).
   */
  get want(): number {
    return this.#want;
  }

  /**
   * Whether a receive of `size` (what the room allows) waits instead: when the room allows none, or, under a
   * backlog at SQS, less than wanted while `waitingToStart` buffered messages could start. A receive then would
   * return at once with a few messages (a request for a few), and they would queue behind those buffered anyway.
   * Without a backlog the queue listens with whatever room it has.
   */
  holds(size: number, waitingToStart: number): boolean {
    return size < this.needs(waitingToStart);
  }

  /**
   * The smallest receive that is not held back (see {@link ReceiveAsk.holds}): the whole ask under a backlog
   * while `waitingToStart` buffered messages could start, else one message. A held poller waits for its room
   * to reach this, and nothing less wakes it.
   */
  needs(waitingToStart: number): number {
    return this.#backlog && waitingToStart > 0 ? this.#want : 1;
  }

  /** A receive of `size` brought `count` messages. */
  received(size: number, count: number): void {
    this.#backlog = count === size;
    this.#want = this.#backlog ? Math.max(this.#minWant, SQS_LIMITS.maxBatchEntries) : this.#idleWant;
  }

  /** SQS throttled a receive: ask for as little as the handler allows until receives come back full again. */
  throttled(): void {
    this.#want = this.#minWant;
    this.#backlog = false;
  }
}
