/** A member of a concurrency group: one physical queue, which owns its running count. */
export interface GroupMember {
  readonly running: number;
}

/**
 * A registered queue's `concurrency`, shared by its suffixed variants (each its own physical queue). It keeps
 * no count of its own: what runs in the group is the sum of what its members run, so it cannot drift.
 */
export class ConcurrencyGroup {
  /** Messages of the group that may run at once (`concurrency`); unbounded when not set. */
  readonly limit: number;
  readonly #members: GroupMember[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Adds a physical queue to the group (at construction of the scheduler). */
  add(member: GroupMember): void {
    this.#members.push(member);
  }

  /** Messages of the group running now. */
  get running(): number {
    let total = 0;
    for (const member of this.#members) total += member.running;
    return total;
  }

  /** How many more may start now. */
  get room(): number {
    return this.limit - this.running;
  }
}
