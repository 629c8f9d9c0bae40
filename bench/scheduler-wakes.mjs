/**
 * What one scheduler change costs while pollers wait for room (issue #19): 1,000 queues, each with buffered
 * messages and 2 slots, so a message starts only as another finishes; then either no poller waits or every
 * queue's poller waits on the scheduler's generation and re-checks its room after each change, as a poller
 * under a backlog does. Prints CPU per cycle (a finish, a start, a receive). Run after `npm run build` or
 * `npx tsc -p tsconfig.test.json`: `node bench/scheduler-wakes.mjs`.
 */
/* global AbortController */
import { setImmediate } from "node:timers";
import { URL } from "node:url";

const D = new URL("../dist", import.meta.url).href;
const { receiver } = await import(`${D}/src/registry/receiver.js`);
const { getRegistry } = await import(`${D}/src/registry/registry.js`);
const { Scheduler } = await import(`${D}/src/supervisor/scheduler.js`);
const { VisibilityKeeper } = await import(`${D}/src/supervisor/visibility-keeper.js`);
const Q = 1000,
  CYCLES = Number(process.env.CYCLES ?? 3000);
for (const waiting of [0, Q]) {
  getRegistry().clear();
  const acker = { changeVisibility: async () => true };
  const logger = {
    debug() {},
    info() {},
    warn() {},
    error() {},
    child() {
      return this;
    },
  };
  const targets = Array.from({ length: Q }, (_, i) => ({
    queue: receiver(`q${i}`, {}, async () => {}).queue,
    suffix: undefined,
    fullName: `q${i}`,
    url: `u${i}`,
    visibilityTimeoutSeconds: 30,
  }));
  const running = [];
  const scheduler = new Scheduler(targets, {
    maxInFlight: 2,
    prefetch: 20,
    maxBuffered: 100,
    keeper: new VisibilityKeeper(acker, logger),
    start: (ds) => running.push(...ds),
    release: () => {},
  });
  let n = 0;
  const admit = (t) => {
    const room = scheduler.room(t);
    room.beginReceive(1, true);
    room.endReceive(1, true, [
      { MessageId: `m${++n}`, ReceiptHandle: `r${n}`, Body: "x", Attributes: { ApproximateReceiveCount: "1" } },
    ]);
  };
  for (const t of targets) {
    admit(t);
    admit(t);
  }
  const stop = new AbortController();
  let rechecks = 0;
  for (const t of targets.slice(0, waiting)) {
    const room = scheduler.room(t);
    void (async () => {
      while (!stop.signal.aborted) {
        const g = room.generation;
        rechecks++;
        if (room.receiveSize(10, true) >= 10 && room.waitingToStart === 0) break;
        await room.roomChanged(g, stop.signal);
      }
    })();
  }
  await new Promise((r) => setImmediate(r));
  rechecks = 0;
  const before = process.cpuUsage();
  for (let i = 0; i < CYCLES; i++) {
    const d = running.shift();
    d.finish({ counted: true, succeeded: true });
    admit(targets[i % Q]);
    await new Promise((r) => setImmediate(r));
  }
  const used = process.cpuUsage(before);
  stop.abort();
  for (const d of running.splice(0)) d.finish({ counted: false, succeeded: false });
  console.log(
    `${waiting} pollers waiting: ${((used.user + used.system) / CYCLES).toFixed(1)} µs CPU per cycle (a finish, a start, a receive), ${(rechecks / CYCLES).toFixed(0)} re-checks per cycle`,
  );
}
process.exit(0);
