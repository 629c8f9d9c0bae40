import assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { afterEach, describe, it } from "node:test";
import type { Outcome } from "../../src/pool/protocol.js";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import type { ReceiverOptions } from "../../src/registry/types.js";
import type { Acker, AckTarget } from "../../src/supervisor/acker.js";
import type { Delivery } from "../../src/supervisor/delivery.js";
import { Dispatcher } from "../../src/supervisor/dispatcher.js";
import { SupervisorEmitter } from "../../src/supervisor/events.js";
import type { PollTarget } from "../../src/supervisor/target.js";
import type { HandlerPool } from "../../src/pool/pool.js";
import { Scheduler, type SchedulerOptions } from "../../src/supervisor/scheduler.js";
import { VisibilityKeeper } from "../../src/supervisor/visibility-keeper.js";
import { eventually } from "../helpers/eventually.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/**
 * The scheduler and dispatcher over a stand-in pool and acker, recording everything in one ordered log
 * (`start A1`, `end A1`, `delete A1`, `extend A2`, `release A3`). This is the scheduling policy alone; the
 * e2e tests show the same behaviour against a real SQS server. Messages are admitted as a receive would admit
 * them. A body ending in "fail" fails its handler; handlers take `handlerMs` unless held (`hold: true` keeps
 * every run going until `releaseRuns()`).
 */
const disposers: (() => void)[] = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

function harness(options: {
  queues: readonly { name: string; receiverOptions?: ReceiverOptions }[];
  handlerMs?: number;
  hold?: boolean;
  visibilityTimeoutSeconds?: number;
  scheduler?: Partial<Omit<SchedulerOptions, "keeper" | "start" | "release">>;
  /** This queue gets a batch handler of 10. */
  batch?: string;
  /** Extensions (visibility changes other than 0) fail. */
  extendFails?: boolean;
  /** The pool's `maxRunsPerTask`. @defaultValue 1 */
  maxRunsPerTask?: number;
  /** The handler time a successful run reports, in ms. @defaultValue 1 */
  reportedMs?: number;
}) {
  getRegistry().clear();
  const log: string[] = [];
  /** Every delivery the scheduler started, in order. */
  const started: Delivery[] = [];
  let running = 0;
  let maxRunning = 0;
  const held: (() => void)[] = [];
  const failed: Outcome = {
    kind: "failed",
    phase: "handler",
    error: { name: "Error", message: "no", stack: undefined, code: undefined },
    durationMs: 1,
  };
  // Each task the dispatcher posts is logged as `post A1,A2` (one entry per run); `start` is logged as the
  // scheduler starts each run, before the dispatcher posts the runs of one turn together.
  const pool = {
    maxRunsPerTask: options.maxRunsPerTask ?? 1,
    runAll(task: { runs: { messages: { body: string }[] }[] }) {
      log.push(`post ${task.runs.map((run) => run.messages.map((message) => message.body).join("+")).join(",")}`);
      return task.runs.map((run) => {
        const bodies = run.messages.map((message) => message.body);
        running += bodies.length;
        maxRunning = Math.max(maxRunning, running);
        const outcome = new Promise<Outcome[]>((resolve) => {
          const end = (): void => {
            running -= bodies.length;
            log.push(`end ${bodies.join("+")}`);
            resolve(
              bodies.map((body) =>
                body.endsWith("fail") ? failed : { kind: "ok", durationMs: options.reportedMs ?? 1 },
              ),
            );
          };
          if (options.hold) held.push(end);
          else setTimeout(end, options.handlerMs ?? 1);
        });
        const startedAt = Date.now();
        return {
          runId: 1,
          outcome,
          startedAt: () => startedAt,
          abort: () => undefined,
          terminateThread: async () => false,
        };
      });
    },
  } as unknown as HandlerPool;
  const acker = {
    delete: async (target: AckTarget) => (log.push(`delete ${target.messageId}`), true),
    changeVisibility: async (target: AckTarget, seconds: number) => (
      log.push(`${seconds === 0 ? "release" : "extend"} ${target.messageId}`),
      seconds === 0 || !options.extendFails
    ),
  } as unknown as Acker;
  const { logger } = memoryLogger();
  const dispatcher = new Dispatcher({ pool, acker, logger, events: new SupervisorEmitter(), defaultRetry: false });
  const targets: PollTarget[] = options.queues.map(({ name, receiverOptions }) => ({
    queue:
      name === options.batch
        ? receiver.batch(name, { ...receiverOptions, batchSize: 10 }, async () => {}).queue
        : receiver(name, receiverOptions ?? {}, async () => {}).queue,
    suffix: undefined,
    fullName: name,
    url: `https://sqs/${name}`,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
  }));
  const scheduler = new Scheduler(targets, {
    maxInFlight: 10,
    prefetch: 10,
    maxBuffered: 100,
    ...options.scheduler,
    keeper: new VisibilityKeeper(acker, logger),
    start: (deliveries) => {
      started.push(...deliveries);
      log.push(`start ${deliveries.map((delivery) => delivery.message.Body).join("+")}`);
      dispatcher.run(deliveries);
    },
    release: (deliveries, why) => dispatcher.release(deliveries, why),
  });
  /** Admits messages to a queue as one receive would; ids double as bodies, `id@group` sets a FIFO group. */
  const receive = (queueIndex: number, ...ids: string[]): void => {
    const room = scheduler.room(targets[queueIndex]!);
    room.beginReceive(ids.length, true);
    room.endReceive(
      ids.length,
      true,
      ids.map((spec): Message => {
        const [id, group] = spec.split("@");
        return {
          MessageId: id,
          ReceiptHandle: `r-${id}`,
          Body: id,
          Attributes: { ApproximateReceiveCount: "1", ...(group ? { MessageGroupId: group } : {}) },
        };
      }),
    );
  };
  const of = (action: string): string[] =>
    log.filter((line) => line.startsWith(`${action} `)).map((line) => line.slice(action.length + 1));
  // Runs reach the pool a microtask after the scheduler starts them (the dispatcher posts a turn's runs
  // together): let that happen before ending them.
  const releaseRuns = async (count?: number): Promise<void> => {
    await Promise.resolve();
    held.splice(0, count ?? held.length).forEach((end) => end());
  };
  disposers.push(() => {
    // Buffered and running deliveries keep heartbeat timers: end them all.
    scheduler.beginDrain();
    scheduler.releaseAll();
    void releaseRuns();
  });
  return { scheduler, dispatcher, log, of, receive, releaseRuns, maxRunning: () => maxRunning, targets, started };
}

describe("Scheduler: FIFO", () => {
  it("runs a group's messages one after another, and gives back the buffered ones after a failure", async () => {
    const { scheduler, of, receive, maxRunning } = harness({ queues: [{ name: "orders.fifo" }], handlerMs: 5 });
    receive(0, "A1@A", "B1@B", "A2-fail@A", "B2@B", "A3@A", "A4@A");
    await eventually(() => scheduler.held === 0);

    const ran = of("start");
    assert.deepEqual(
      ran.filter((body) => body.startsWith("A")),
      ["A1", "A2-fail"],
      "group A stopped at its failure",
    );
    assert.deepEqual(
      ran.filter((body) => body.startsWith("B")),
      ["B1", "B2"],
    );
    assert.equal(maxRunning(), 2, "the two groups ran side by side, one message each");
    assert.deepEqual(of("release").sort(), ["A3", "A4"], "the later messages of A went back");
    assert.deepEqual(of("delete").sort(), ["A1", "B1", "B2"]);
    assert.equal(scheduler.running, 0, "every slot was returned");
  });

  it("keeps a buffered message's visibility from receipt, before its turn comes", async () => {
    // A1 runs 1.5 visibility timeouts; A2 waits behind it all that time. Without a heartbeat from receipt,
    // A2 would become visible in SQS while it waits, and be delivered again.
    const { scheduler, log, receive } = harness({
      queues: [{ name: "orders.fifo" }],
      handlerMs: 1_500,
      visibilityTimeoutSeconds: 1,
    });
    receive(0, "A1@A", "A2@A");
    await eventually(() => scheduler.held === 0, { timeoutMs: 10_000 });
    const extendedWhileWaiting = log.indexOf("extend A2");
    assert.ok(extendedWhileWaiting >= 0, `A2's visibility was extended: ${log.join(", ")}`);
    assert.ok(extendedWhileWaiting < log.indexOf("start A2"), `before A2 started: ${log.join(", ")}`);
  });

  it("drops a buffered message whose visibility could not be kept, so that it never runs twice", async () => {
    const { scheduler, of, receive, releaseRuns } = harness({
      queues: [{ name: "jobs" }],
      hold: true,
      visibilityTimeoutSeconds: 1,
      extendFails: true,
      scheduler: { maxInFlight: 1 },
    });
    receive(0, "m1", "m2");
    // At half its timeout m2's extension fails: SQS will deliver it again, so this copy must not run.
    await eventually(() => scheduler.buffered === 0, { timeoutMs: 10_000 });
    await releaseRuns();
    await eventually(() => scheduler.held === 0);
    assert.deepEqual(of("start"), ["m1"]);
  });

  it("holds a full buffer in group order while every slot is busy", async () => {
    const { scheduler, of, receive, releaseRuns } = harness({
      queues: [{ name: "orders.fifo" }],
      hold: true,
      scheduler: { maxInFlight: 1 },
    });
    receive(0, "A1@A", "A2@A", "B1@B", "A3@A", "B2@B");
    assert.deepEqual(of("start"), ["A1"]);
    assert.equal(scheduler.buffered, 4);
    for (let step = 0; step < 4; step += 1) {
      await releaseRuns();
      await eventually(() => of("start").length === step + 2);
    }
    await releaseRuns();
    await eventually(() => scheduler.held === 0);
    const ran = of("start");
    assert.deepEqual(
      ran.filter((body) => body.startsWith("A")),
      ["A1", "A2", "A3"],
    );
    assert.deepEqual(
      ran.filter((body) => body.startsWith("B")),
      ["B1", "B2"],
    );
  });
});

describe("Scheduler: batches and blocked groups", () => {
  it("keeps freed slots for a batch queue gathering a fuller batch, instead of giving them to others", async () => {
    const { of, receive } = harness({
      queues: [{ name: "single" }, { name: "batched", receiverOptions: {} }],
      hold: true,
      scheduler: { maxInFlight: 10, prefetch: 20 },
      batch: "batched",
    });
    receive(0, "s0");
    receive(1, ...Array.from({ length: 20 }, (_, index) => `b${index}`));
    receive(0, ...Array.from({ length: 19 }, (_, index) => `s${index + 1}`));
    assert.deepEqual(of("start"), ["s0"], "9 slots free, the batch queue wants 10: the slots wait for it");
    // Past the gather time it takes what is free rather than wait on: a batch of 9, nothing for "single".
    await eventually(() => of("start").length === 2);
    assert.equal(of("start")[1]!.split("+").length, 9);
  });

  it("keeps receiving on a FIFO queue whose buffered messages all wait behind one running group", () => {
    const { scheduler, receive, targets } = harness({ queues: [{ name: "orders.fifo" }], hold: true });
    receive(0, ...Array.from({ length: 10 }, (_, index) => `g${index}@G`));
    const room = scheduler.room(targets[0]!);
    assert.deepEqual([scheduler.running, room.buffered, room.waitingToStart], [1, 9, 0]);
    assert.equal(room.receiveSize(10, true), 10, "other groups can still be received");
  });
});

describe("Scheduler: buffering, pause and drain", () => {
  it("starts no more than maxInFlight and keeps the rest buffered", async () => {
    const { scheduler, of, receive, releaseRuns } = harness({
      queues: [{ name: "jobs" }],
      hold: true,
      scheduler: { maxInFlight: 2 },
    });
    receive(0, "m1", "m2", "m3", "m4", "m5");
    assert.deepEqual(of("start"), ["m1", "m2"]);
    assert.equal(scheduler.buffered, 3);
    await releaseRuns(1);
    await eventually(() => of("start").length === 3);
    assert.equal(of("start")[2], "m3", "first in, first out");
  });

  it("gives every buffered message back at once when a drain begins, and finishes the running ones", async () => {
    const { scheduler, of, receive, releaseRuns } = harness({
      queues: [{ name: "jobs" }],
      hold: true,
      scheduler: { maxInFlight: 1 },
    });
    receive(0, "m1", "m2", "m3");
    scheduler.beginDrain();
    await eventually(() => of("release").length === 2);
    assert.deepEqual(of("release"), ["m2", "m3"], "no receive under way: back at once");
    assert.deepEqual(of("start"), ["m1"], "nothing new started during the drain");
    await releaseRuns();
    assert.equal(await scheduler.waitUntilIdle(5_000), true);
    assert.deepEqual(of("delete"), ["m1"], "the running message finished");
    assert.equal(scheduler.held, 0);
  });

  it("holds give-backs while a receive of ours waits on the queue, and releases them when it returns", async () => {
    const { scheduler, of, receive, targets } = harness({
      queues: [{ name: "jobs" }],
      hold: true,
      scheduler: { maxInFlight: 1 },
    });
    receive(0, "m1", "m2");
    const room = scheduler.room(targets[0]!);
    room.beginReceive(5, true);
    scheduler.pause();
    assert.deepEqual(of("release"), [], "our own long poll could take it again");
    room.endReceive(5, true, [{ MessageId: "late", ReceiptHandle: "r-late", Body: "late" }]);
    assert.deepEqual(of("release").sort(), ["late", "m2"]);
    assert.equal(scheduler.buffered, 0);
  });

  it("starts nothing while paused, and starts again on resume", async () => {
    const { scheduler, of, receive, releaseRuns, targets } = harness({
      queues: [{ name: "jobs" }],
      hold: true,
      scheduler: { maxInFlight: 1 },
    });
    receive(0, "m1", "m2");
    const room = scheduler.room(targets[0]!);
    room.beginReceive(1, true);
    scheduler.pause();
    await releaseRuns();
    await eventually(() => of("delete").includes("m1"));
    assert.deepEqual(of("start"), ["m1"], "m2 did not start while paused");
    assert.equal(room.receiveSize(10, true), 0, "no receive while paused");
    scheduler.resume();
    assert.deepEqual(of("start"), ["m1", "m2"], "resumed before it went back: m2 runs");
    assert.deepEqual(of("release"), []);
  });

  it("asks every queue for at most what the message limit leaves, and gives back at once what comes beyond it", () => {
    const { scheduler, receive, targets, of } = harness({
      queues: [{ name: "jobs" }, { name: "other" }],
      hold: true,
      scheduler: { maxInFlight: 2, messageLimit: 5 },
    });
    const message = (id: string): Message => ({ MessageId: id, ReceiptHandle: `r-${id}`, Body: id });
    receive(0, "m1", "m2", "m3");
    const jobs = scheduler.room(targets[0]!);
    const other = scheduler.room(targets[1]!);
    assert.equal(jobs.receiveSize(10, true), 2, "5 allowed, 3 held");
    jobs.beginReceive(2, true);
    // The budget counts messages received, not asked for: the other queue keeps listening too.
    assert.equal(other.receiveSize(10, true), 2, "a long poll waiting elsewhere holds none of the budget");
    other.beginReceive(2, true);
    other.endReceive(2, true, [message("o1"), message("o2")]);
    assert.equal(jobs.receiveSize(10, false), 0, "the budget is all held");
    jobs.endReceive(2, true, [message("m4"), message("m5")]);
    assert.deepEqual(of("release"), ["m4", "m5"], "what came beyond the limit went back at once");
    assert.equal(scheduler.held, 5);
  });

  it("lets an extra lane ask only for what the limit leaves beyond every receive under way", () => {
    const { scheduler, targets } = harness({
      queues: [{ name: "jobs" }, { name: "other" }],
      hold: true,
      scheduler: { messageLimit: 12, prefetch: 20 },
    });
    const jobs = scheduler.room(targets[0]!);
    const other = scheduler.room(targets[1]!);
    assert.equal(jobs.receiveSize(10, true), 10);
    jobs.beginReceive(10, true);
    // A second lane of the same queue asking 10 too would bring 8 past the limit, given back where a lane of
    // this queue could take them again (each time raising their receive count toward the DLQ).
    assert.equal(jobs.receiveSize(10, false), 2, "12 allowed, 10 asked for");
    assert.equal(other.receiveSize(10, true), 10, "another queue's primary lane still listens for what is left");
    other.beginReceive(10, true);
    assert.equal(jobs.receiveSize(10, false), 0, "nothing is left beyond the receives under way");
  });

  it("gives back the tail of a receive beyond the limit, so a FIFO group's later messages go back with it", () => {
    const { of, receive } = harness({
      queues: [{ name: "orders.fifo" }],
      hold: true,
      scheduler: { messageLimit: 2 },
    });
    receive(0, "a1@A", "b1@B", "a2@A", "b2@B");
    assert.deepEqual(of("start"), ["a1", "b1"], "what the limit lets in runs");
    assert.deepEqual(of("release"), ["a2", "b2"], "each group's later message went back, none ahead of its first");
  });

  it("caps receives at the global buffer ceiling but always lets the primary lane listen for one", () => {
    const { scheduler, receive, targets } = harness({
      queues: [{ name: "a" }, { name: "b" }],
      hold: true,
      scheduler: { maxInFlight: 1, maxBuffered: 3 },
    });
    receive(0, "a1", "a2", "a3", "a4");
    assert.equal(scheduler.buffered, 3);
    const other = scheduler.room(targets[1]!);
    assert.equal(other.receiveSize(10, true), 1, "the ceiling is reached: one, to keep listening");
    assert.equal(other.receiveSize(10, false), 0, "and no extra lane");
  });
});

describe("Dispatcher: runs sharing a thread hop", () => {
  async function twoRounds(reportedMs: number): Promise<string[]> {
    const { scheduler, of, receive } = harness({
      queues: [{ name: "jobs" }],
      maxRunsPerTask: 4,
      reportedMs,
      scheduler: { maxInFlight: 10 },
    });
    receive(0, "a1", "a2", "a3");
    await eventually(() => scheduler.held === 0);
    receive(0, "b1", "b2", "b3", "b4", "b5", "b6");
    await eventually(() => scheduler.held === 0);
    return of("post");
  }

  it("posts the runs a queue starts together as one task once its handler is known to be quick", async () => {
    assert.deepEqual(await twoRounds(1), ["a1", "a2", "a3", "b1,b2,b3,b4", "b5,b6"]);
  });

  it("gives every run of a slower handler a task of its own", async () => {
    assert.deepEqual(await twoRounds(5), ["a1", "a2", "a3", "b1", "b2", "b3", "b4", "b5", "b6"]);
  });
});

describe("Scheduler: weights", () => {
  it("shares slots in proportion to weight while both queues have a backlog", async () => {
    const { of, receive, releaseRuns } = harness({
      queues: [
        { name: "light", receiverOptions: { weight: 1 } },
        { name: "heavy", receiverOptions: { weight: 3 } },
      ],
      hold: true,
      scheduler: { maxInFlight: 1, prefetch: 40 },
    });
    receive(0, ...Array.from({ length: 40 }, (_, index) => `l${index}`));
    receive(1, ...Array.from({ length: 40 }, (_, index) => `h${index}`));
    for (let started = 1; started < 40; started += 1) {
      await releaseRuns();
      await eventually(() => of("start").length === started + 1);
    }
    const heavy = of("start").filter((body) => body.startsWith("h")).length;
    const light = of("start").filter((body) => body.startsWith("l")).length;
    assert.equal(heavy + light, 40);
    assert.equal(heavy, 30, `3:1 share (heavy ${heavy}, light ${light})`);
  });
});

describe("Scheduler: deliveries", () => {
  it("finds a running delivery by its own id, so a second copy of the same message cannot take its requests", async () => {
    const { scheduler, started, targets } = harness({ queues: [{ name: "copies" }], hold: true });
    const room = scheduler.room(targets[0]!);
    // SQS is at-least-once: the same message can arrive twice, with two receipt handles.
    for (const [handle, body, count] of [
      ["r-first", "first", "1"],
      ["r-second", "second", "2"],
    ] as const) {
      room.beginReceive(1, true);
      room.endReceive(1, true, [
        { MessageId: "m", ReceiptHandle: handle, Body: body, Attributes: { ApproximateReceiveCount: count } },
      ]);
    }
    await eventually(() => started.length === 2);
    const [first, second] = started;
    assert.notEqual(first!.id, second!.id);
    // By MessageId (before), the first copy's extendVisibility reached the second's receipt handle.
    assert.equal(scheduler.find(first!.id)?.ack.receiptHandle, "r-first");
    assert.equal(scheduler.find(second!.id)?.ack.receiptHandle, "r-second");
  });
});

describe("Scheduler: waits for room", () => {
  it("ends a wait at once when the room changed between the poller's check and its wait", async () => {
    const { scheduler, receive, targets, releaseRuns } = harness({
      queues: [{ name: "jobs" }],
      hold: true,
      scheduler: { maxInFlight: 1, prefetch: 2 },
    });
    const room = scheduler.room(targets[0]!);
    receive(0, "m1", "m2", "m3");
    // The poller's check: m1 runs, m2 and m3 fill the buffer.
    const generation = room.generation;
    assert.equal(room.receiveSize(10, true), 0, "the buffer is full");
    // The change lands before the poller's wait begins: m1 ends, m2 starts, the buffer has room.
    await releaseRuns();
    await eventually(() => room.receiveSize(10, true) > 0);
    let woke = false;
    void room.roomChanged(generation, 1, true, new AbortController().signal).then(() => (woke = true));
    // A one-shot notification registered now would wait for the next change, which never comes.
    await eventually(() => woke, { message: "the wait missed a change that came before it" });
  });

  it("frees a concurrency slot when the queue's own running message finishes", async () => {
    const { scheduler, receive, of, releaseRuns } = harness({
      queues: [
        { name: "a", receiverOptions: { concurrency: 1 } },
        { name: "b", receiverOptions: { concurrency: 1 } },
      ],
      hold: true,
    });
    receive(0, "a1", "a2");
    receive(1, "b1");
    assert.deepEqual(of("start"), ["a1", "b1"], "one of each queue: each its own group of 1");
    await releaseRuns();
    await eventually(() => of("start").includes("a2"));
    assert.equal(scheduler.running, 1);
  });
});

describe("Scheduler: a watchdog restart", () => {
  it("leaves the new primary lane room while the receive of the lane it replaced is stuck", () => {
    // Review finding: a prefetch of 5 and an idle ask of 5 (its share of maxBuffered 100 is larger). The stuck
    // receive asked for all of the queue's room, so the new primary lane got a size of 0 and the queue listened
    // again only when the dead request timed out.
    const { scheduler, targets } = harness({ queues: [{ name: "q" }], scheduler: { prefetch: 5 } });
    const room = scheduler.room(targets[0]!);
    const stuck = room.receiveSize(room.idleWant, true);
    assert.equal(stuck, 5);
    room.beginReceive(stuck, true);
    assert.equal(room.receiveSize(room.idleWant, true), 5, "the new primary lane's receive");
    // An extra lane still counts every receive under way: it only adds to a backlog the queue has room for.
    assert.equal(room.receiveSize(10, false), 0);
    room.endReceive(stuck, true, []);
  });
});
