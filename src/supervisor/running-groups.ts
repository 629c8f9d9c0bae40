/** A message as FIFO order sees it: its group ("" outside FIFO queues). */
export interface GroupedMessage {
  readonly groupId: string;
}

/**
 * One FIFO queue's message groups with a message running, and what may start in their order: a message starts
 * only when no message of its group runs. On a standard queue every message may start, in buffer order.
 */
export class RunningGroups {
  readonly #fifo: boolean;
  /** Running messages by group. */
  readonly #running = new Map<string, number>();

  constructor(fifo: boolean) {
    this.#fifo = fifo;
  }

  /** A message began to run. */
  started(message: GroupedMessage): void {
    if (!this.#tracks(message)) return;
    this.#running.set(message.groupId, (this.#running.get(message.groupId) ?? 0) + 1);
  }

  /** A running message finished. */
  ended(message: GroupedMessage): void {
    if (!this.#tracks(message)) return;
    const left = (this.#running.get(message.groupId) ?? 1) - 1;
    if (left > 0) this.#running.set(message.groupId, left);
    else this.#running.delete(message.groupId);
  }

  /**
   * Up to `count` of `buffer` that may start now, in buffer order. On a FIFO queue a message may start only
   * when no message of its group is running; a batch takes a group's messages in their order.
   */
  startable<T extends GroupedMessage>(buffer: readonly T[], count: number): T[] {
    if (count <= 0) return [];
    if (!this.#fifo) return buffer.slice(0, count);
    const result: T[] = [];
    for (const message of buffer) {
      if (result.length >= count) break;
      if (!this.#running.has(message.groupId)) result.push(message);
    }
    return result;
  }

  #tracks(message: GroupedMessage): boolean {
    return this.#fifo && message.groupId !== "";
  }
}
