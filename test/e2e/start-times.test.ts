import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { eventually } from "../helpers/eventually.js";
import { SERVERS, StartTimes } from "../helpers/start-times.js";

/**
 * When a message starts, end to end, on fauxqs and on moto, with the documented defaults (20 s long polls, the
 * default pool, which starts threads on demand): measured from the test's send (or its control request) to
 * the handler's own record of its start, so everything between counts, a thread's start included. The 1 s
 * bound is issue #19's; without the listening invariant a message waits for some long poll to return, up to
 * 20 s, so the bound separates the two by a wide margin even on a loaded machine.
 */
const BOUND_MS = 1_000;
const QUEUES = ["times-a", "times-b", "times-c", "times-d"] as const;
const PAIRS = 8;
/** How far apart the pairs go: the pace of issue #19's report. */
const PAIR_INTERVAL_MS = 1_500;

/**
 * The default pool starts with one thread and starts the others on demand; the warm pool starts every thread
 * with the daemon. A message must not wait for a thread's start while a started thread is free again (it did,
 * 1 to 3 s under load, until the pool's balancer stopped handing tasks to threads still loading receivers).
 */
const POOLS: readonly { name: string; options: { pool?: Record<string, unknown> } }[] = [
  { name: "default pool", options: {} },
  { name: "warm pool", options: { pool: { threads: 2, minThreads: 2 } } },
];

/**
 * Sends `PAIRS` pairs, one pair every 1.5 s to one of the four queues (each queue twice, in a shuffled order),
 * each pair in one SendMessageBatch. The pacing is the load, not a wait for anything.
 */
async function sendPairs(st: StartTimes): Promise<void> {
  const order = [...QUEUES, ...QUEUES].sort(() => Math.random() - 0.5);
  const began = Date.now();
  for (const [index, queue] of order.entries()) {
    const waitMs = began + index * PAIR_INTERVAL_MS - Date.now();
    if (waitMs > 0) await sleep(waitMs);
    await st.sendTogether(queue, 2, `pair ${index} on ${queue}`);
  }
}

/** Asserts that every start came within the bound after `from(start)`, naming each delay when one did not. */
function assertAllWithin(
  starts: ReturnType<StartTimes["starts"]>,
  from: (start: ReturnType<StartTimes["starts"]>[number]) => number,
  context = "",
): void {
  const delays = starts.map((start) => ({
    label: `${start.body.tag} #${start.receiveCount} thread ${start.threadId}`,
    ms: start.at - from(start),
  }));
  const late = delays.filter(({ ms }) => ms > BOUND_MS || ms < 0);
  assert.deepEqual(
    late,
    [],
    `every start within ${BOUND_MS} ms: ${delays.map((d) => `${d.label} ${d.ms} ms`).join(", ")}${context}`,
  );
}

/** Messages the server holds visible on `queues`: those no receive has taken. */
async function visible(st: StartTimes, queues: readonly string[]): Promise<number> {
  let total = 0;
  for (const queue of queues) {
    const { Attributes = {} } = await st.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: await st.queueUrl(queue),
        AttributeNames: ["ApproximateNumberOfMessages"],
      }),
    );
    total += Number(Attributes.ApproximateNumberOfMessages ?? 0);
  }
  return total;
}

for (const server of SERVERS) {
  describe(`start times with 20 s long polls, on ${server.name}`, { skip: server.skip }, () => {
    let st: StartTimes | undefined;
    afterEach(async () => {
      await st?.dispose();
      st = undefined;
    });

    for (const pool of POOLS) {
      it(`starts pairs sent together to four queues within 1 s of their send, ${pool.name}`, async () => {
        st = await StartTimes.start(server);
        await st.spawn({ queues: QUEUES, ...pool.options });
        await sendPairs(st);
        assertAllWithin(await st.awaitStarts(PAIRS * 2), (start) => start.body.sentAt);
      });

      // Eight messages at once after the resume: with the default pool the first go to its one started thread
      // while a second starts. That thread's first task used to wait for its admission round trip (see
      // ADMISSION in src/pool/protocol.ts), 0.3 to 0.5 s under load, and the eight started 0.4 to 1.2 s after
      // the resume; it now asks for it when it has loaded, and they start within about 0.3 s.
      it(`starts messages sent during a pause within 1 s of POST /resume, ${pool.name}`, async () => {
        st = await StartTimes.start(server);
        await st.spawn({ queues: QUEUES, ...pool.options });
        await st.control("pause");
        for (const queue of QUEUES) await st.sendTogether(queue, 2, `paused on ${queue}`);
        // What a waiting poll brings during a pause goes back at once, so all eight end up visible at the
        // server: then nothing of the daemon holds them, and only the resume can start them.
        const s = st;
        await eventually(async () => (await visible(s, QUEUES)) === QUEUES.length * 2, { timeoutMs: 30_000 });
        assert.equal(st.starts().length, 0, "nothing starts while paused");
        const resumedAt = await st.control("resume");
        const starts = await st.awaitStarts(QUEUES.length * 2);
        const receives = `; receives after the resume, ms: ${st.receivesAfter(QUEUES, resumedAt)}`;
        assertAllWithin(starts, () => resumedAt, receives);
      });
    }

    it("starts the last pairs before a --message-limit within 1 s of their send", async () => {
      st = await StartTimes.start(server);
      const daemon = await st.spawn({ queues: QUEUES, args: ["--message-limit", String(PAIRS * 2)] });
      await sendPairs(st);
      assertAllWithin(await st.awaitStarts(PAIRS * 2), (start) => start.body.sentAt);
      assert.equal((await daemon.exited).code, 0, "the limit reached ends the daemon cleanly");
    });

    it("starts a RestartLater({ delaySeconds: 1 }) retry 1 to 2.5 s after the first attempt", async () => {
      st = await StartTimes.start(server);
      await st.spawn({ queues: ["times-retry"] });
      await st.sendTogether("times-retry", 1, "retry");
      const starts = await st.awaitStarts(2);
      const [first, second] = [...starts].sort((a, b) => a.receiveCount - b.receiveCount);
      const afterMs = second!.at - first!.at;
      assert.equal(second!.receiveCount, 2);
      assert.ok(afterMs >= 1_000 && afterMs <= 2_500, `the retry started ${afterMs} ms after the first attempt`);
    });

    it("starts a message waiting through an idle backoff within 1 s of POST /wake", async () => {
      st = await StartTimes.start(server);
      // The backoff follows an empty receive, so this one queue polls for 2 s rather than 20 (to reach it
      // sooner), and backs off for a minute at least (half the ceiling, by the jitter), far beyond the bound.
      await st.spawn({
        queues: ["times-wake"],
        defaults: { waitTimeSeconds: 2, idleBackoff: { initialMs: 120_000, maxMs: 120_000 } },
      });
      const s = st;
      // In the backoff: a receive has returned empty, and no other followed it.
      await eventually(
        () => {
          const receives = s.watch.receives("times-wake");
          const lastEnd = receives.at(-1)?.endMs;
          return lastEnd !== undefined && performance.now() - lastEnd > 500;
        },
        { timeoutMs: 30_000, message: "no idle backoff after an empty receive" },
      );
      await st.sendTogether("times-wake", 1, "wake");
      await eventually(async () => (await visible(s, ["times-wake"])) === 1, { timeoutMs: 30_000 });
      assert.equal(st.starts().length, 0, "the message waits through the backoff");
      const wokenAt = await st.control("wake");
      assertAllWithin(await st.awaitStarts(1), () => wokenAt);
    });
  });
}
