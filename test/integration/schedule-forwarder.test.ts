import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ScheduleBodyError } from "../../src/schedules/errors.js";
import { LastTicks } from "../../src/schedules/last-ticks.js";
import { Forwarder, MAX_TICK_AGE_MS, type Forward } from "../../src/schedules/forwarder.js";
import { encodeTick, tickDeduplicationId } from "../../src/schedules/tick-message.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqs, sqsServers } from "../helpers/local-sqs.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/**
 * The forwarder against a real SQS server: which tick messages it deletes (forwarded, or dropped because they
 * can never be forwarded or are too old) and which it leaves for a retry, and that a hung forward cannot hold
 * its stop.
 */
for (const server of sqsServers())
  describe(`schedule forwarder on ${server.name}`, { skip: server.skip, timeout: 120_000 }, () => {
    let sqs: TestSqs;
    let queueNumber = 0;
    before(async () => {
      sqs = await TestSqs.start({ server: server.name });
    });
    after(async () => {
      await sqs.stop();
    });

    /** A fresh schedules queue holding one tick of schedule "s", and a forwarder on it that calls `forward`. */
    const setUp = async (forward: Forward, now?: () => number) => {
      queueNumber += 1;
      const queueUrl = await sqs.createQueue(`schedules-${queueNumber}.fifo`, {
        FifoQueue: "true",
        VisibilityTimeout: "30",
      });
      const tick = new Date("2026-01-01T00:00:00Z");
      await sqs.send(queueUrl, encodeTick("s", tick), {
        MessageGroupId: "s",
        MessageDeduplicationId: tickDeduplicationId("s", tick),
      });
      const client = createSqsClient(sqs.settings);
      const { logger, records } = memoryLogger();
      const dropped: string[] = [];
      const forwarder = new Forwarder({
        receiveClient: client,
        client,
        queueUrl,
        waitTimeSeconds: 1,
        errorBackoff: { initialMs: 100, maxMs: 1_000 },
        knows: () => true,
        forward,
        onDropped: (schedule) => dropped.push(schedule),
        logger,
        ...(now ? { now } : {}),
      });
      return { queueUrl, forwarder, records, dropped };
    };

    it("deletes a tick whose forward can never succeed, instead of retrying it", async () => {
      let calls = 0;
      const { queueUrl, forwarder, records } = await setUp(() => {
        calls += 1;
        return Promise.reject(new ScheduleBodyError("s", new Error("boom")));
      });
      forwarder.start();
      await eventually(async () => {
        const counts = await sqs.counts(queueUrl);
        return calls === 1 && counts.visible === 0 && counts.inFlight === 0;
      });
      await forwarder.stop(true);
      assert.equal(calls, 1);
      assert.ok(records.some((record) => record.message.includes("cannot succeed; dropping the tick")));
    });

    it("leaves a tick whose forward failed for a passing reason, for a retry", async () => {
      let calls = 0;
      const { queueUrl, forwarder } = await setUp(() => {
        calls += 1;
        return Promise.reject(new Error("throttled"));
      });
      forwarder.start();
      await eventually(() => calls === 1);
      await forwarder.stop(true);
      assert.deepEqual(await sqs.counts(queueUrl), { visible: 0, inFlight: 1, delayed: 0 });
    });

    it("drops a tick that waited on the queue longer than the age bound, without forwarding it", async () => {
      let calls = 0;
      const { queueUrl, forwarder, dropped } = await setUp(
        () => {
          calls += 1;
          return Promise.resolve();
        },
        () => Date.now() + MAX_TICK_AGE_MS + 60_000,
      );
      forwarder.start();
      await eventually(async () => {
        const counts = await sqs.counts(queueUrl);
        return dropped.length === 1 && counts.visible === 0 && counts.inFlight === 0;
      });
      await forwarder.stop(true);
      assert.equal(calls, 0);
      assert.deepEqual(dropped, ["s"]);
    });

    it("gives up a hung forward at its deadline: stop() resolves, the forward is cancelled, the tick is left for a retry", async () => {
      let calls = 0;
      let forwardSignal: AbortSignal | undefined;
      const { queueUrl, forwarder, records } = await setUp((_schedule, _tick, signal) => {
        calls += 1;
        forwardSignal = signal;
        return new Promise<void>(() => undefined); // a body function that never returns
      });
      forwarder.start();
      await eventually(() => calls === 1);
      await forwarder.stop(true);
      assert.ok(
        records.some((record) => String((record as { error?: unknown }).error).includes("ScheduleForwardTimeoutError")),
        JSON.stringify(records),
      );
      assert.deepEqual(await sqs.counts(queueUrl), { visible: 0, inFlight: 1, delayed: 0 });
      // Given up means cancelled: a forward that resumed now would send a tick that is forwarded again later.
      assert.equal(forwardSignal?.aborted, true);
    });

    it("abandons a last-tick record whose forward's time is up, and keeps one made in time", async () => {
      queueNumber += 1;
      const queueUrl = await sqs.createQueue(`schedules-${queueNumber}.fifo`, { FifoQueue: "true" });
      const lastTicks = new LastTicks(createSqsClient(sqs.settings), queueUrl);
      const tick = new Date("2026-01-01T00:00:00Z");
      await assert.rejects(lastTicks.record("late", tick, AbortSignal.abort()));
      await lastTicks.record("on-time", tick, new AbortController().signal);
      assert.deepEqual(await lastTicks.read(), new Map([["on-time", tick]]));
    });
  });
