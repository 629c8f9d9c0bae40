import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ResolvedSchedule } from "../../src/config/schedules.js";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import { ScheduleForwardTimeoutError } from "../../src/schedules/errors.js";
import { sendScheduleMessage } from "../../src/schedules/schedule-message.js";
import { configureSqs } from "../../src/sqs/settings.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqs } from "../helpers/local-sqs.js";
import { SqsHttpProxy } from "../helpers/sqs-http-proxy.js";

/**
 * A schedule's message, sent to its queue for a tick, against a real SQS server behind a proxy that can hold a
 * send in transit: once the forward's deadline aborts its signal, the message must not land, even when its
 * request was already on its way (the tick is forwarded again later, so landing now is a duplicate).
 */
describe("a schedule's message", { timeout: 120_000 }, () => {
  let sqs: TestSqs;
  let proxy: SqsHttpProxy;
  before(async () => {
    sqs = await TestSqs.start();
    proxy = await SqsHttpProxy.start(sqs.endpoint);
  });
  after(async () => {
    await proxy.stop();
    await sqs.stop();
  });

  const schedule = (queue: string): ResolvedSchedule => ({
    name: "nightly",
    cron: "0 3 * * *",
    queue,
    body: undefined,
    suffix: undefined,
    timezone: "UTC",
    catchUp: "none",
  });

  it("is sent to the schedule's queue while its deadline holds", async () => {
    getRegistry().clear();
    configureSqs({ ...sqs.settings, endpoint: proxy.endpoint, createQueues: true });
    const target = receiver("schedule-target-sent", async () => {}).queue;
    const tick = new Date("2026-01-01T03:00:00Z");
    await sendScheduleMessage(schedule(target.name), target, tick, new AbortController().signal);
    const url = await sqs.createQueue(target.fullName);
    const [message] = await sqs.receive(url, { max: 1 });
    assert.deepEqual(JSON.parse(message?.Body ?? "null"), { schedule: "nightly", tick: tick.toISOString() });
  });

  it("does not land once its forward's signal aborted, though its send was already under way", async () => {
    getRegistry().clear();
    configureSqs({ ...sqs.settings, endpoint: proxy.endpoint, createQueues: true });
    const target = receiver("schedule-target-late", async () => {}).queue;
    const url = await sqs.createQueue(target.fullName);
    const sendsBefore = sqs.requests("SendMessageBatch") + sqs.requests("SendMessage");
    proxy.holdSends = true;
    try {
      const deadline = new AbortController();
      const sent = sendScheduleMessage(schedule(target.name), target, new Date(), deadline.signal);
      const settled = sent.then(
        () => "sent",
        () => "failed",
      );
      // The send is on its way (its request reached the proxy) when the forward's time runs out.
      await eventually(() => proxy.heldSends === 1, { message: "the send reached the proxy" });
      deadline.abort(new ScheduleForwardTimeoutError("nightly", 10_000));
      await eventually(() => proxy.sendsAbandoned === 1, {
        timeoutMs: 5_000,
        message: "the send under way was aborted when the forward's signal aborted",
      });
      proxy.releaseSends();
      assert.equal(await settled, "failed");
      assert.equal(proxy.sendsDropped, 1);
    } finally {
      proxy.holdSends = false;
      proxy.releaseSends();
    }
    assert.equal(sqs.requests("SendMessageBatch") + sqs.requests("SendMessage"), sendsBefore, "no send reached SQS");
    assert.deepEqual(await sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 });
  });
});
