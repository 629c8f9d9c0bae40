import type { Message } from "@aws-sdk/client-sqs";

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
  /**
   * What this queue asks for while idle (at start, after an empty or partial receive): 1 plus its share, by
   * weight, of half the global buffer ceiling, at most 10, and at least a batch handler's batch. A waiting long
   * poll reserves its size beyond the first message against the ceiling for as long as it waits, so idle
   * queues together reserve at most half of it, and the other half stays for queues with a backlog.
   */
  readonly idleWant: number;
  /** Messages of this queue waiting in its buffer. */
  readonly buffered: number;
  /**
   * Buffered messages that could start as soon as a slot frees: all of them, except on a FIFO queue those
   * behind a running message of their group.
   */
  readonly waitingToStart: number;
  /** Receives of this queue waiting on SQS now. This queue is their one count. */
  readonly receivesUnderWay: number;
  /** This queue's count of changes: read it before {@link ReceiveRoom.receiveSize}, pass it to roomChanged. */
  readonly generation: number;
  /**
   * Resolves once the room may allow a receive of `need` messages (the least that ends the poller's hold): on
   * any change of this queue's own counts since `generation` was read (at once if one came already), and on a
   * change across queues (the buffer ceiling, the message limit, a pause) only once that term allows `need`.
   * Also resolves when `signal` aborts. Level-triggered: the poller re-checks its room after it resolves.
   */
  roomChanged(generation: number, need: number, primary: boolean, signal: AbortSignal): Promise<void>;
  /** A receive of `size` messages is under way. */
  beginReceive(size: number, primary: boolean): void;
  /** It returned: the messages join the buffer (or go back, when paused or draining, or beyond the limit). */
  endReceive(size: number, primary: boolean, messages: readonly Message[]): void;
}
