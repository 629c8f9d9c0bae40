import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import { createSqsConnection } from "../../src/sqs/client.js";
import { testTransport } from "../helpers/transport.js";
import { Acker } from "../../src/supervisor/acker.js";
import type { Delivery } from "../../src/supervisor/delivery.js";
import { QueueGate } from "../../src/rate-limit/queue-gate.js";
import type { ReceiveLimiter } from "../../src/rate-limit/receive-limiter.js";
import { Poller, type PollerOptions } from "../../src/supervisor/poller.js";
import { Scheduler } from "../../src/supervisor/scheduler.js";
import { VisibilityKeeper } from "../../src/supervisor/visibility-keeper.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqs, sqsServers } from "../helpers/local-sqs.js";
import { memoryLogger } from "../helpers/memory-logger.js";
import { SqsHttpProxy } from "../helpers/sqs-http-proxy.js";

/** One poller and its scheduler against a real SQS server: what it asks for, and how it stops. */
for (const server of sqsServers())
  describe(`Poller on ${server.name}`, { skip: server.skip }, () => {
    let sqs: TestSqs;
    let poller: Poller | undefined;
    before(async () => {
      sqs = await TestSqs.start({ server: server.name });
    });
    after(async () => {
      await sqs.stop();
    });
    beforeEach(() => getRegistry().clear());
    afterEach(async () => {
      await poller?.stop();
      poller = undefined;
    });

    /**
     * A poller for a new queue, feeding a real scheduler whose runs never end on their own: `running` holds
     * what started, `finish(n)` ends the first n of them, `released` what went back to SQS.
     */
    async function startPoller(
      name: string,
      options: { maxInFlight: number; prefetch: number; waitTimeSeconds?: number } & Partial<PollerOptions>,
    ) {
      const url = await sqs.createQueue(name);
      const running: Delivery[] = [];
      const released: string[] = [];
      const { hot: client } = createSqsConnection(sqs.settings, { transport: testTransport() });
      const { logger } = memoryLogger();
      const acker = new Acker(client, logger);
      const target = {
        queue: receiver(name, async () => {}).queue,
        suffix: undefined,
        fullName: name,
        url,
        visibilityTimeoutSeconds: 30,
      };
      const scheduler = new Scheduler([target], {
        maxInFlight: options.maxInFlight,
        prefetch: options.prefetch,
        maxBuffered: 100,
        keeper: new VisibilityKeeper(acker, logger),
        start: (deliveries) => running.push(...deliveries),
        release: (deliveries) => {
          for (const delivery of deliveries) {
            released.push(delivery.message.Body ?? "");
            void acker.changeVisibility(delivery.ack, 0);
          }
        },
      });
      poller = new Poller({
        target,
        sqs: client,
        room: scheduler.room(target),
        logger,
        waitTimeSeconds: options.waitTimeSeconds ?? 1,
        errorBackoff: { initialMs: 100, maxMs: 1_000 },
        idleBackoff: false,
        maxLanes: 4,
        ...options,
      });
      const finish = (count: number): void => {
        for (const delivery of running.splice(0, count)) delivery.finish({ counted: true, succeeded: true });
      };
      const started = (): string[] => running.map((delivery) => delivery.message.Body ?? "");
      return { url, scheduler, started, finish, released, poller };
    }

    it("receives ahead while every slot is busy, never past the prefetch bound, then holds", async () => {
      const { url, scheduler, started, finish, poller } = await startPoller("limited", { maxInFlight: 1, prefetch: 3 });
      await sqs.sendMany(
        url,
        Array.from({ length: 10 }, (_, index) => String(index)),
      );
      poller.start();
      // The one slot is busy and messages wait in the buffer: how many the receive policy takes ahead is its
      // business (see receive-ask.ts), but never more than the bound, and then it holds its next receive. Settled
      // means the same count with no receive under way in two reads in a row.
      let previous: { buffered: number; receives: number } | undefined;
      const buffered = await eventually(() => {
        const now = { buffered: scheduler.buffered, receives: sqs.requests("ReceiveMessage") };
        const quiet = started().length === 1 && now.buffered > 0 && poller.health().receivesUnderWay === 0;
        const stable = quiet && previous?.buffered === now.buffered && previous.receives === now.receives;
        previous = quiet ? now : undefined;
        return stable ? now.buffered : undefined;
      });
      assert.ok(buffered <= 3, `${buffered} buffered, beyond the prefetch bound of 3`);
      const receives = sqs.requests("ReceiveMessage");
      assert.deepEqual(await sqs.counts(url), { visible: 10 - 1 - buffered, inFlight: 1 + buffered, delayed: 0 });
      // Held: no receive since the two reads that found it settled, nor while SQS was asked for its counts.
      assert.equal(sqs.requests("ReceiveMessage"), receives, "no receive while it holds");
      // Finishing runs frees slots: buffered messages start, and the rest is received in turn.
      for (let done = 0; done < 10; done += 1) {
        await eventually(() => started().length === 1);
        finish(1);
      }
      await eventually(async () => (await sqs.counts(url)).visible === 0 && scheduler.held === 0);
    });

    it("stops without aborting a long poll under way, and gives back what it brings", async () => {
      const { url, scheduler, started, released, poller } = await startPoller("stray", {
        maxInFlight: 10,
        prefetch: 10,
        waitTimeSeconds: 10,
      });
      const receivesBefore = sqs.requests("ReceiveMessage");
      poller.start();
      // A long poll is now waiting on the empty queue; drain while it is under way.
      await eventually(() => sqs.requests("ReceiveMessage") > receivesBefore);
      scheduler.beginDrain();
      const stopped = poller.stop();
      await sqs.send(url, "late");
      await stopped;
      assert.deepEqual(released, ["late"]);
      assert.deepEqual(started(), []);
      assert.equal(scheduler.held, 0);
      assert.equal(sqs.requests("ReceiveMessage"), receivesBefore + 1, "no receive after stop()");
    });

    it("a drain that begins while a shared rate limit's store is asked sends no receive, and gives the tokens back", async () => {
      // A store that answers when the test says: the drain begins while the poller awaits its reservation.
      let asked!: () => void;
      const wasAsked = new Promise<void>((resolve) => (asked = resolve));
      let answer!: (tokens: number) => void;
      const settled: [number, number][] = [];
      const limiter: ReceiveLimiter = {
        perSecond: 1,
        burst: 10,
        shared: true,
        reserve: () => {
          asked();
          return new Promise<number>((resolve) => (answer = resolve));
        },
        settle: (reserved, received) => settled.push([reserved, received]),
        nextToken: async () => {},
        close: async () => {},
      };
      const { poller } = await startPoller("reserve-then-drain", {
        maxInFlight: 1,
        prefetch: 1,
        gate: new QueueGate(limiter),
      });
      poller.start();
      await wasAsked;
      const receives = sqs.requests("ReceiveMessage");
      poller.stopReceiving();
      answer(1);
      await poller.stop();
      assert.equal(sqs.requests("ReceiveMessage"), receives, "no receive after the drain began");
      assert.deepEqual(settled, [[1, 0]], "the reserved token went back");
    });

    it("wake() ends an idle backoff pause at once", async () => {
      const { url, started, poller } = await startPoller("sleepy", {
        maxInFlight: 10,
        prefetch: 10,
        idleBackoff: { initialMs: 3_600_000, maxMs: 3_600_000 },
      });
      poller.start();
      // After one empty receive the poller pauses for an hour.
      await eventually(() => poller.lastPollAt !== undefined);
      await sqs.send(url, "urgent");
      poller.wake();
      await eventually(() => started().length === 1, { timeoutMs: 10_000 });
      assert.deepEqual(started(), ["urgent"]);
    });

    it("a wake that lands while an empty receive's answer is in transit is not lost", async () => {
      const proxy = await SqsHttpProxy.start(sqs.endpoint);
      try {
        const { url, started, poller } = await startPoller("sleepy-in-transit", {
          maxInFlight: 10,
          prefetch: 10,
          idleBackoff: { initialMs: 3_600_000, maxMs: 3_600_000 },
          sqs: createSqsConnection({ ...sqs.settings, endpoint: proxy.endpoint }, { transport: testTransport() }).hot,
        });
        proxy.holdReceiveAnswers = true;
        poller.start();
        // The first receive has found the queue empty; its answer is on its way back when the message arrives
        // and the wake is sent.
        await eventually(() => proxy.held === 1);
        await sqs.send(url, "urgent");
        poller.wake();
        proxy.holdReceiveAnswers = false;
        proxy.releaseHeld();
        // Lost, the wake would leave the poller in its hour-long idle pause.
        await eventually(() => started().length === 1, { timeoutMs: 10_000 });
        assert.deepEqual(started(), ["urgent"]);
      } finally {
        await poller?.stop();
        poller = undefined;
        await proxy.stop();
      }
    });
  });
