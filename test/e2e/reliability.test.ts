import assert from "node:assert/strict";
import { GetQueueAttributesCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { afterEach, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { parsePrometheus, sampleValue } from "../helpers/prometheus.js";
import { Scenario } from "../helpers/scenario.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { sqsServers } from "../helpers/local-sqs.js";
import { ONE_RECEIVE_LANE } from "../helpers/moto.js";

/** Never lose, never stall: long jobs, stuck and crashing handlers, FIFO order, and a network that drops. */
for (const server of sqsServers())
  describe(`reliability on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario;
    let proxy: TcpProxy | undefined;
    afterEach(async () => {
      await scenario.dispose();
      await proxy?.stop();
      proxy = undefined;
    });

    /** Creates a dead-letter queue and returns the redrive policy that sends messages there after `maxReceiveCount`. */
    async function redriveTo(name: string, maxReceiveCount: number): Promise<{ url: string; policy: string }> {
      const url = await scenario.sqs.createQueue(name);
      const { Attributes } = await scenario.sqs.client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
      );
      return { url, policy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount }) };
    }

    async function metrics(base: string) {
      return parsePrometheus(await (await fetch(`${base}/metrics`)).text());
    }

    it("keeps a job running 3× its visibility timeout invisible: processed once, never redelivered", async () => {
      scenario = await Scenario.start({ server: server.name });
      const url = await scenario.sqs.createQueue("slow", { VisibilityTimeout: "2" });
      const id = await scenario.sqs.send(url, JSON.stringify({ ms: 6_000 }));
      const configPath = scenario.writeConfig(["slow"], {
        defaults: { visibilityTimeoutSeconds: 2, waitTimeSeconds: 1 },
      });
      const result = await scenario.run(["--config", configPath, "--message-limit", "1"]);
      assert.equal(result.code, 0, result.stderr);
      const events = scenario.ws.events().filter((event) => event.id === id);
      assert.deepEqual(
        events.map((event) => [event.event, event.receiveCount]),
        [
          ["started", 1],
          ["handled", 1],
        ],
      );
      assert.ok(scenario.sqs.requests("ChangeMessageVisibilityBatch") >= 3, "the heartbeat extended it");
      assert.deepEqual(await scenario.sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 });
    });

    it("stops a handler stuck in while(true) at its timeout, keeps serving other queues, and dead-letters it", async () => {
      scenario = await Scenario.start({ server: server.name });
      const dlq = await redriveTo("hangs-dlq", 2);
      const hangs = await scenario.sqs.createQueue("hangs", { RedrivePolicy: dlq.policy });
      const ok = await scenario.sqs.createQueue("ok");
      const configPath = scenario.writeConfig(["hangs", "ok"], {
        defaults: { visibilityTimeoutSeconds: 1, waitTimeSeconds: 1 },
        // Both threads kept (minThreads): the test checks that an ended thread is replaced.
        pool: { threads: 2, minThreads: 2, tasksPerThread: 1 },
        http: { port: 0 },
      });
      const daemon = scenario.spawn(["--config", configPath]);
      const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
      await daemon.started();
      const stuck = await scenario.sqs.send(hangs, "{}");
      await eventually(() => scenario.ws.events().find((event) => event.id === stuck));
      // The other queue is served throughout, by the other thread and then by the replacements. (That it is
      // served while a thread is still blocked is the next test's: here the thread is ended after 2.5 s.)
      const others = await scenario.sqs.sendMany(ok, ["1", "2", "3", "4", "5"]);
      await eventually(() =>
        others.every((id) => scenario.ws.events().some((event) => event.id === id && event.event === "handled")),
      );
      // Two receives, two timeouts, then redrive moves it to the dead-letter queue.
      await eventually(async () => (await scenario.sqs.counts(dlq.url)).visible === 1, { timeoutMs: 30_000 });
      // Every settlement of the message (the records with an outcome) was a timeout, not a crash or a failure.
      const settled = daemon.logs.filter((record) => record.messageId === stuck && record.outcome !== undefined);
      assert.ok(settled.length >= 2, `settled on each delivery (${settled.length})`);
      for (const record of settled) {
        assert.equal(record.message, "handler timed out");
        assert.equal(record.phase, "timeout");
      }
      assert.ok(
        daemon.logs.some(
          (record) =>
            record.messageId === stuck &&
            record.message === "handler did not stop after its signal; its thread was ended",
        ),
        "the spinning thread was ended",
      );
      await eventually(async () => sampleValue(await metrics(base), "sqsd_pool_threads") === 2);
      assert.equal(daemon.child.exitCode, null);
    });

    it("serves other queues on the other threads while a handler blocks its thread's event loop", async () => {
      scenario = await Scenario.start({ server: server.name });
      const blocked = await scenario.sqs.createQueue("blocks-until-gate");
      const ok = await scenario.sqs.createQueue("ok");
      const configPath = scenario.writeConfig(["blocks-until-gate", "ok"], {
        defaults: { waitTimeSeconds: 1 },
        pool: { threads: 2, tasksPerThread: 1 },
      });
      const daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
      const blocker = await scenario.sqs.send(blocked, "{}");
      await eventually(() => scenario.ws.events().some((event) => event.id === blocker));
      const others = await scenario.sqs.sendMany(ok, ["1", "2", "3", "4", "5"]);
      // The blocked handler cannot finish before its gate opens, and the test opens it only after this wait: every
      // one of these was handled while that thread was blocked.
      await eventually(() =>
        others.every((id) => scenario.ws.events().some((event) => event.id === id && event.event === "handled")),
      );
      scenario.ws.openGate(blocker);
      await eventually(() => scenario.ws.events().some((event) => event.id === blocker && event.event === "handled"));
      assert.equal(daemon.child.exitCode, null);
    });

    it("gives back, uncounted, a message queued behind a blocked handler on its thread when that thread is ended", async () => {
      scenario = await Scenario.start({ server: server.name });
      const dlq = await redriveTo("blocks-dlq", 1);
      const blocks = await scenario.sqs.createQueue("blocks", { RedrivePolicy: dlq.policy });
      const ok = await scenario.sqs.createQueue("ok");
      // One thread taking two tasks: the second task waits on the thread the first one blocks. The ok queue's
      // visibility timeout (600 s) outlasts every wait below: only a release brings its message back in time.
      const configPath = scenario.writeConfig(["blocks-thread", "ok"], {
        defaults: { visibilityTimeoutSeconds: 600, waitTimeSeconds: 1 },
        pool: { threads: 1, tasksPerThread: 2 },
      });
      const daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
      const stuck = await scenario.sqs.send(blocks, "{}");
      await eventually(() => scenario.ws.events().some((event) => event.id === stuck));
      const waiting = await scenario.sqs.send(ok, "1");
      // The handler's own "handled" event lands in the events file before the thread returns the outcome; the
      // supervisor's log line for it comes later, through the stdout pipe. Wait for that line, not the event.
      // Both waits time out if the message, once given back, is not received and handled again.
      const handled = await eventually(
        () => scenario.ws.events().find((event) => event.id === waiting && event.event === "handled"),
        { timeoutMs: 60_000, message: "the message given back was not handled again" },
      );
      await daemon.waitForLog((record) => record.messageId === waiting && record.outcome === "ok", 60_000);
      const records = daemon.logs.filter((record) => record.messageId === waiting && record.outcome !== undefined);
      assert.deepEqual(
        records.map((record) => record.outcome),
        ["notStarted", "ok"],
        "given back once when the blocked thread was ended, never counted as a failure; then handled",
      );
      // Released at once (visibility 0), not left to its visibility timeout: received a second time.
      assert.equal(handled.receiveCount, 2);
      await eventually(async () => (await scenario.sqs.counts(dlq.url)).visible === 1, { timeoutMs: 30_000 });
      // Checked once the blocked message has come back after its 10 s visibility timeout: time enough for this
      // one to have been handled a second time, had it been released again after its success.
      assert.equal(scenario.ws.events().filter((event) => event.id === waiting).length, 1, "handled once");
      assert.deepEqual(await scenario.sqs.counts(ok), { visible: 0, inFlight: 0, delayed: 0 }, "deleted");
      assert.equal(daemon.child.exitCode, null);
    });

    it("stops (exit 1) rather than stall when a replacement thread dies while starting", async () => {
      scenario = await Scenario.start({ server: server.name });
      const url = await scenario.sqs.createQueue("dies-on-restart");
      const configPath = scenario.writeConfig(["dies-on-restart"], { pool: { threads: 2, tasksPerThread: 1 } });
      const daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
      scenario.ws.openGate("threads-die-on-start");
      // Its handler ends its thread; the replacement ends while loading the module, and piscina then never
      // replaces a thread again. Left running, the pool would only shrink.
      await scenario.sqs.send(url, "{}");
      await eventually(() => daemon.child.exitCode !== null, {
        timeoutMs: 30_000,
        message: "the daemon kept running with a shrinking pool",
      });
      const status = await daemon.exited;
      assert.equal(status.code, 1, daemon.stderr);
      assert.ok(
        daemon.logs.some((record) => /a pool thread ended while starting/.test(String(record.message))),
        "the reason is logged",
      );
      // The message was not lost: its handler never succeeded, so it is still in the queue.
      const counts = await scenario.sqs.counts(url);
      assert.equal(counts.visible + counts.inFlight, 1);
    });

    it("loses only its own message to each kind of thread crash, and keeps going", async () => {
      scenario = await Scenario.start({ server: server.name });
      const dlq = await redriveTo("crashes-dlq", 2);
      const crashers = ["exits-thread", "throws-in-timer", "rejects-unhandled", "out-of-memory"];
      const urls: Record<string, string> = {};
      for (const name of crashers) urls[name] = await scenario.sqs.createQueue(name, { RedrivePolicy: dlq.policy });
      const ok = await scenario.sqs.createQueue("ok");
      const configPath = scenario.writeConfig([...crashers, "ok"], {
        // A crashed message comes back after its 1 s retry delay; the 10 s visibility timeout only keeps buffered
        // messages hidden, with room for a heartbeat that runs late on a busy machine (at 1 s, a late one let SQS
        // deliver a waiting message a third time).
        defaults: { visibilityTimeoutSeconds: 10, waitTimeSeconds: 1, retry: [1] },
        pool: { threads: 2, minThreads: 2, tasksPerThread: 1, maxHeapMb: 32 },
        http: { port: 0 },
      });
      const daemon = scenario.spawn(["--config", configPath]);
      const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
      await daemon.started();
      const crashing = new Map<string, string>();
      for (const name of crashers) crashing.set(name, await scenario.sqs.send(urls[name]!, "{}"));
      const others = await scenario.sqs.sendMany(
        ok,
        Array.from({ length: 10 }, (_, n) => String(n)),
      );

      await eventually(
        () => others.every((id) => scenario.ws.events().some((event) => event.id === id && event.event === "handled")),
        // Generous: each crash costs a thread start (receiver modules, telemetry and payload code loaded again),
        // slow on a busy machine; this is a deadline, not a measurement.
        { timeoutMs: 90_000, message: "the ok queue's messages were not all handled beside the crashing threads" },
      );
      // Each crashing message was retried (delivered twice), then dead-lettered by the redrive policy.
      await eventually(async () => (await scenario.sqs.counts(dlq.url)).visible === crashers.length, {
        timeoutMs: 90_000,
      });
      for (const [name, id] of crashing) {
        const deliveries = scenario.ws
          .events()
          .filter((event) => event.id === id)
          .map((event) => event.receiveCount);
        // A delivery whose run never started (its task was queued for a thread that another crasher ended, which
        // a busy machine makes likelier) is given back uncounted: it shows as "notStarted", not as a run.
        const givenBack = daemon.logs.filter((record) => record.messageId === id && record.outcome === "notStarted");
        assert.ok(
          deliveries.every((count, index) => index === 0 || count > deliveries[index - 1]!),
          `${name} ran at most once per delivery: ${deliveries.join(", ")}`,
        );
        assert.equal(deliveries.length + givenBack.length, 2, `${name}: two deliveries, each run or given back`);
        assert.ok(deliveries.length > 0, `${name} ran`);
        assert.ok(
          daemon.logs.some(
            (record) => record.messageId === id && record.message === "handler thread died" && record.phase === "crash",
          ),
          `${name}: logged as a thread crash`,
        );
      }
      assert.ok(
        daemon.logs.some((record) => record.message === "a handler crashed its thread; holding this queue back"),
      );
      await eventually(async () => sampleValue(await metrics(base), "sqsd_pool_threads") === 2);
      assert.equal(daemon.child.exitCode, null, "the daemon keeps running");
    });

    it("runs each FIFO group in order, groups in parallel, through an injected failure", async () => {
      scenario = await Scenario.start({ server: server.name });
      const url = await scenario.sqs.createQueue("steps.fifo", {
        FifoQueue: "true",
        ContentBasedDeduplication: "true",
      });
      const groups = ["A", "B", "C"];
      for (let start = 0; start < 50; start += 10) {
        for (const group of groups) {
          await scenario.sqs.client.send(
            new SendMessageBatchCommand({
              QueueUrl: url,
              Entries: Array.from({ length: 10 }, (_, offset) => ({
                Id: String(offset),
                MessageGroupId: group,
                MessageBody: JSON.stringify({
                  group,
                  n: start + offset,
                  ...(group === "B" && start + offset === 10 ? { failOnce: true } : {}),
                }),
              })),
            }),
          );
        }
      }
      // The message limit counts handler runs, so a redelivery would stop the daemon one message short. With a 1 s
      // visibility timeout a loaded machine caused them: a delete arriving after the timeout had run out. 30 s
      // leaves room for that, and a 1 s retry delay still brings the failed message back at once.
      const configPath = scenario.writeConfig(["fifo"], {
        defaults: { visibilityTimeoutSeconds: 30, waitTimeSeconds: 1, retry: [1] },
        // On moto, one receive lane: two receives at once can split a group between them out of order there
        // (MOTO_DEFECTS.concurrentReceives), which SQS never does.
        pool: { threads: 2, tasksPerThread: 4, ...(server.name === "moto" ? ONE_RECEIVE_LANE : {}) },
      });
      const result = await scenario.run(["--config", configPath, "--message-limit", "151"]);
      assert.equal(result.code, 0, result.stderr);

      const handled = scenario.ws.events().filter((event) => event.event === "handled");
      const spans: [number, number][] = [];
      for (const group of groups) {
        const mine = handled.filter((event) => (event.body as { group: string }).group === group);
        assert.deepEqual(
          mine.map((event) => (event.body as { n: number }).n),
          Array.from({ length: 50 }, (_, n) => n),
          `group ${group} handled in send order`,
        );
        spans.push([mine[0]!.at, mine.at(-1)!.at]);
      }
      const failedOnce = scenario.ws.events().filter((event) => (event.body as { failOnce?: boolean }).failOnce);
      assert.deepEqual(
        failedOnce.map((event) => [event.event, event.receiveCount]),
        [
          ["started", 1],
          ["started", 2],
          ["handled", 2],
        ],
      );
      // The groups overlapped in time: they ran in parallel, not one after another.
      const [a, b, c] = spans as [[number, number], [number, number], [number, number]];
      assert.ok(
        a[0] < b[1] && b[0] < a[1] && a[0] < c[1] && c[0] < a[1],
        `group spans overlap: ${JSON.stringify(spans)}`,
      );
    });

    it("rides out a 10-second network cut under load: every message processed, no crash, no tight retry loop", async (t) => {
      scenario = await Scenario.start({ server: server.name });
      proxy = await TcpProxy.start(scenario.sqs.endpoint);
      const url = await scenario.sqs.createQueue("slow");
      const ids = await scenario.sqs.sendMany(
        url,
        Array.from({ length: 200 }, () => JSON.stringify({ ms: 50 })),
      );
      const configPath = scenario.ws.writeConfig({
        ...(await import("../helpers/config.js")).testConfig({ endpoint: proxy.endpoint }, ["slow"], {
          defaults: { visibilityTimeoutSeconds: 5, waitTimeSeconds: 1 },
          pool: { threads: 2, tasksPerThread: 4 },
        }),
      });
      const daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
      await eventually(() => scenario.ws.events().filter((event) => event.event === "handled").length >= 20);

      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const attemptsWhileCut = proxy.connectionsWhileCut;
      proxy.restore();

      const handledIds = () =>
        new Set(
          scenario.ws
            .events()
            .filter((event) => event.event === "handled")
            .map((event) => event.id),
        );
      await eventually(() => ids.every((id) => handledIds().has(id)), {
        timeoutMs: 60_000,
        message: "not every message was processed",
      });
      await eventually(
        async () => {
          const counts = await scenario.sqs.counts(url);
          return counts.visible + counts.inFlight === 0;
        },
        { timeoutMs: 30_000 },
      );
      assert.equal(daemon.child.exitCode, null, "no crash");
      // Without backoff a poller alone would reconnect thousands of times in 10 s; with it, the poller and the
      // acker's delete retries make a few dozen at most.
      t.diagnostic(`connection attempts during the 10 s cut: ${attemptsWhileCut}`);
      assert.ok(attemptsWhileCut < 100, `${attemptsWhileCut} connection attempts during the 10 s cut`);
      assert.ok(daemon.logs.some((record) => record.message === "receive failed; backing off"));
    });
  });
