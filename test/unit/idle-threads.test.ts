import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IdleThreads, type PoolThread } from "../../src/pool/idle-threads.js";

/** A stand-in for piscina's view of a thread: its id and how many tasks it holds. */
function thread(id: number, currentUsage: number): PoolThread {
  return { id, currentUsage, isRunningAbortableTask: false, terminating: false, destroyed: false } as PoolThread;
}

function idleThreads(maxThreads: number): IdleThreads {
  // idleMs 0: no sweep, so these checks see the balancer alone.
  return new IdleThreads({ minThreads: 1, maxThreads, tasksPerThread: 4, idleMs: 0, retire: async () => undefined });
}

const task = {} as Parameters<IdleThreads["balancer"]>[0];

describe("the pool's balancer", () => {
  it("gives a task to a thread that holds none", () => {
    const pool = idleThreads(3);
    const threads = [thread(1, 2), thread(2, 0)];
    for (const each of threads) pool.added(each);
    assert.equal(pool.balancer(task, threads)?.id, 2);
  });

  it("gives none while the pool may grow, so that piscina starts a thread rather than queue behind a busy one", () => {
    const pool = idleThreads(2);
    const busy = [thread(1, 1)];
    pool.added(busy[0]!);
    assert.equal(pool.balancer(task, busy), null);
  });

  it("at its size, gives the least busy thread below tasksPerThread, and none when all are full", () => {
    const pool = idleThreads(2);
    const threads = [thread(1, 3), thread(2, 1)];
    for (const each of threads) pool.added(each);
    assert.equal(pool.balancer(task, threads)?.id, 2);
    assert.equal(pool.balancer(task, [thread(1, 4), thread(2, 4)]), null);
  });
});
