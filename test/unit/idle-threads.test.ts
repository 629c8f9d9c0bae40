import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IdleThreads, type PoolThread } from "../../src/pool/idle-threads.js";
import { eventually } from "../helpers/eventually.js";

/** A stand-in for piscina's view of a thread: its id and how many tasks it holds. */
function thread(id: number, currentUsage: number): PoolThread {
  return { id, currentUsage, isRunningAbortableTask: false, terminating: false, destroyed: false } as PoolThread;
}

function idleThreads(maxThreads: number, reported: (threadId: number) => boolean = () => true): IdleThreads {
  // idleMs 0: no sweep, so these checks see the balancer alone.
  return new IdleThreads({
    minThreads: 1,
    maxThreads,
    tasksPerThread: 4,
    idleMs: 0,
    retire: async () => undefined,
    queuedTasks: () => 0,
    reported,
  });
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

  it("gives no task to a thread piscina has not reported ready: it only counts against the maximum", () => {
    const pool = idleThreads(2);
    const ready = thread(1, 0);
    const starting = thread(2, 0);
    pool.added(ready);
    // piscina offers a starting thread (listed first) when a task ends: it would hold the task for its whole start.
    assert.equal(pool.balancer(task, [starting, ready])?.id, 1);
    const busy = thread(1, 1);
    assert.equal(pool.balancer(task, [starting, busy])?.id, 1, "at the maximum, the ready thread with room");
  });

  it("gives a thread piscina started with the pool (ready at once) a task only once it reported loading", () => {
    const loaded = new Set<number>();
    const pool = idleThreads(2, (threadId) => loaded.has(threadId));
    const early = thread(1, 0);
    pool.startedEarly([1]);
    pool.added(early);
    assert.equal(pool.balancer(task, [early]), null, "the pool may grow: piscina starts a thread");
    const busy = thread(2, 3);
    pool.added(busy);
    assert.equal(pool.balancer(task, [early, busy])?.id, 2, "at the maximum, a loaded thread with room");
    assert.equal(
      pool.balancer(task, [early, thread(2, 4)])?.id,
      1,
      "at the maximum with every loaded thread full, the loading one: piscina would not offer the task again when it loads",
    );
    loaded.add(1);
    assert.equal(pool.balancer(task, [thread(2, 1), early])?.id, 1, "once it reported, an idle thread like any");
  });

  it("at its size, gives the least busy thread below tasksPerThread, and none when all are full", () => {
    const pool = idleThreads(2);
    const threads = [thread(1, 3), thread(2, 1)];
    for (const each of threads) pool.added(each);
    assert.equal(pool.balancer(task, threads)?.id, 2);
    assert.equal(pool.balancer(task, [thread(1, 4), thread(2, 4)]), null);
  });

  it("counts a thread being retired against the maximum, as piscina does, so a thread with room gets the task", async () => {
    const retiring: number[] = [];
    const pool = new IdleThreads({
      minThreads: 1,
      maxThreads: 2,
      tasksPerThread: 4,
      idleMs: 1,
      // Its teardown hooks take as long as the test needs: the thread stays in retirement.
      retire: (threadId) => (retiring.push(threadId), new Promise<void>(() => undefined)),
      queuedTasks: () => 0,
      reported: () => true,
    });
    const busy = thread(1, 1);
    const idle = thread(2, 0);
    pool.added(busy);
    pool.added(idle);
    try {
      await eventually(() => retiring.length === 1);
      assert.deepEqual(retiring, [2]);
      // piscina still counts thread 2 until it has exited, so it would not start a third: thread 1 has room.
      assert.equal(pool.balancer(task, [busy, idle])?.id, 1);
    } finally {
      pool.stop();
    }
  });

  it("retires no thread while tasks wait in piscina's queue", async () => {
    const retiring: number[] = [];
    let queued = 1;
    let looked = 0;
    const pool = new IdleThreads({
      minThreads: 1,
      maxThreads: 2,
      tasksPerThread: 4,
      idleMs: 1,
      retire: async (threadId) => void retiring.push(threadId),
      queuedTasks: () => ((looked += 1), queued),
      reported: () => true,
    });
    pool.added(thread(1, 1));
    pool.added(thread(2, 0));
    try {
      // Sweeps that found the idle thread saw the queue, and left it; then the queue empties and it goes.
      await eventually(() => looked >= 2);
      assert.deepEqual(retiring, []);
      queued = 0;
      await eventually(() => retiring.length === 1);
    } finally {
      pool.stop();
    }
  });
});
