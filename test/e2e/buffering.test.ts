import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { parsePrometheus, sampleValue } from "../helpers/prometheus.js";
import { Scenario } from "../helpers/scenario.js";
import { sqsServers } from "../helpers/local-sqs.js";

const TOKEN = "buffering-token";

/** One queue's share of the scheduler, as /status.json reports it. */
interface QueueLoad {
  readonly queue: string;
  readonly buffered: number;
  readonly running: number;
}

/**
 * Messages received but not started: their visibility is kept while they wait, and a drain or a pause gives
 * them back to SQS at once rather than leaving them hidden until their visibility timeout.
 */
for (const server of sqsServers())
  describe(`buffered messages on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario | undefined;
    afterEach(async () => {
      await scenario?.dispose();
      scenario = undefined;
    });

    const events = (s: Scenario, name: string) => s.ws.events().filter((event) => event.event === name);

    async function startDaemon(s: Scenario, receivers: string[], overrides: Record<string, unknown>) {
      const configPath = s.writeConfig(receivers, {
        http: { port: 0, token: TOKEN, statusCacheSeconds: 0 },
        ...overrides,
      });
      const daemon = s.spawn(["--config", configPath]);
      const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
      await daemon.started();
      return { daemon, base };
    }

    it("is not delivered twice when its wait for a slot outlasts its visibility timeout", async () => {
      const s = (scenario = await Scenario.start({ server: server.name }));
      const url = await s.sqs.createQueue("slow");
      const ids = await s.sqs.sendMany(url, [JSON.stringify({ gate: "hold" }), JSON.stringify({ gate: "hold" })]);
      const configPath = s.writeConfig(["slow"], {
        defaults: { visibilityTimeoutSeconds: 2 },
        pool: { threads: 1, tasksPerThread: 1 },
      });
      const daemon = s.spawn(["--config", configPath]);
      await daemon.started();
      // One slot: the first message's handler holds it on the gate, and the second waits in the buffer.
      const running = await eventually(() => events(s, "started")[0]);
      // The running message's heartbeat serves as the clock: it extends the visibility by 2 s every second, so
      // five extensions mean more than two visibility timeouts (4 s) have passed since the receive, which brought
      // the buffered message moments after the running one. Had the buffered message's visibility lapsed, it would
      // be visible again after 2 s, and the daemon's own long poll would have taken it a second time by now.
      const extensions = () =>
        daemon.logsWith("visibility extended").filter((record) => record.messageId === running.id).length;
      await eventually(() => extensions() >= 5, {
        timeoutMs: 60_000,
        message: () => `the running message's visibility was extended ${extensions()} times`,
      });
      assert.equal(events(s, "started").length, 1, "the second message waited for the slot");

      s.ws.openGate("hold");
      await eventually(() => events(s, "handled").length >= 2);
      daemon.kill("SIGTERM");
      assert.deepEqual(await daemon.exited, { code: 0, signal: null }, daemon.stderr);
      // Each handled exactly once, on its first delivery; and no second copy was received and given back.
      assert.deepEqual(
        events(s, "started")
          .map((event) => [event.id, event.receiveCount])
          .sort(),
        ids.map((id) => [id, 1]).sort(),
      );
      assert.equal(events(s, "handled").length, 2);
      assert.deepEqual(await s.sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 });
    });

    it("goes back to SQS at once when a drain begins, and no message is stranded", async () => {
      const s = (scenario = await Scenario.start({ server: server.name }));
      // A long visibility timeout: a message that is visible again within the test can only have been given back.
      const url = await s.sqs.createQueue("slow", { VisibilityTimeout: "120" });
      const ids = await s.sqs.sendMany(
        url,
        Array.from({ length: 10 }, () => JSON.stringify({ gate: "hold" })),
      );
      // One slot, held on the gate, and a buffer of at most 6. Once the first message runs, the poller fills the
      // buffer as its receive policy allows and then holds its next receive (the buffer is full, or SQS has a
      // backlog and buffered messages wait to start), so no receive is under way to delay the give-back. How many
      // it buffers is the policy's business; the test takes what it finds.
      const { daemon, base } = await startDaemon(s, ["slow"], {
        defaults: { visibilityTimeoutSeconds: 120, waitTimeSeconds: 20 },
        pool: { threads: 1, tasksPerThread: 1, prefetch: 6 },
      });
      // Settled: the same count with no receive under way in two reads in a row, so not the moment between one
      // receive's answer and the next request.
      let previous: number | undefined;
      const settled = await eventually(
        async () => {
          const { queues, pollers } = (await status(base)).supervisor;
          const buffered = queues[0]?.buffered ?? 0;
          const quiet = events(s, "started").length === 1 && buffered > 0 && pollers[0]?.receivesUnderWay === 0;
          const stable = quiet && previous === buffered;
          previous = quiet ? buffered : undefined;
          return stable ? buffered : undefined;
        },
        { timeoutMs: 30_000, message: "the buffer did not settle with no receive under way" },
      );
      const metrics = parsePrometheus(await (await fetch(`${base}/metrics`)).text());
      assert.equal(sampleValue(metrics, "sqsd_messages_buffered", { queue: "slow" }), settled);
      assert.deepEqual(await s.sqs.counts(url), { visible: 10 - 1 - settled, inFlight: 1 + settled, delayed: 0 });

      daemon.kill("SIGTERM");
      // Before the running handler ends: the buffered messages are visible again, the running one is not.
      await eventually(async () => isCounts(await s.sqs.counts(url), { visible: 9, inFlight: 1 }), {
        timeoutMs: 30_000,
        message: "the buffered messages did not become visible again",
      });
      assert.equal(events(s, "started").length, 1, "nothing started after the drain began");

      s.ws.openGate("hold");
      assert.deepEqual(await daemon.exited, { code: 0, signal: null }, daemon.stderr);
      const handled = events(s, "handled");
      assert.equal(handled.length, 1);
      // Nothing in flight, nothing lost: each message was handled (and deleted) or is visible.
      assert.deepEqual(await s.sqs.counts(url), { visible: 9, inFlight: 0, delayed: 0 });
      const remaining = await s.sqs.receive(url, { max: 10, waitSeconds: 0 });
      assert.deepEqual(
        [...handled.map((event) => event.id), ...remaining.map((message) => message.MessageId)].sort(),
        [...ids].sort(),
      );
    });

    it("goes back to SQS while paused, and no handler starts until resumed", async () => {
      const s = (scenario = await Scenario.start({ server: server.name }));
      const url = await s.sqs.createQueue("ok", { VisibilityTimeout: "120" });
      const { daemon, base } = await startDaemon(s, ["ok"], {
        defaults: { visibilityTimeoutSeconds: 120, waitTimeSeconds: 20 },
      });
      const paused = await post(`${base}/pause`);
      assert.equal(paused.status, 200);
      assert.deepEqual(await paused.json(), { paused: true, state: "paused" });
      // The long poll the daemon started moments ago still waits (for up to 20 s): a pause does not abort it, so
      // it is what receives the message sent now.
      const { pollers } = (await status(base)).supervisor;
      assert.equal(pollers[0]?.receivesUnderWay, 1);
      const id = await s.sqs.send(url, JSON.stringify("while paused"));

      // Visible again well within its 120 s visibility timeout: given back, not left to time out.
      await eventually(async () => isCounts(await s.sqs.counts(url), { visible: 1, inFlight: 0 }), {
        timeoutMs: 30_000,
        message: () => `the message did not become visible again (handler events: ${s.ws.events().length})`,
      });
      assert.ok(
        daemon.logs.some((record) => record.message === "gave back messages received while paused or draining"),
        "received during the pause, and given back",
      );
      assert.deepEqual(s.ws.events(), [], "no handler started while paused");

      assert.equal((await post(`${base}/resume`)).status, 200);
      const handled = await eventually(() => events(s, "handled")[0]);
      assert.equal(handled.id, id);
      assert.equal(handled.receiveCount, 2, "the second delivery: the first was the one given back");
    });
  });

function isCounts(counts: { visible: number; inFlight: number }, expected: typeof counts): boolean {
  return counts.visible === expected.visible && counts.inFlight === expected.inFlight;
}

function post(url: string): Promise<Response> {
  return fetch(url, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
}

async function status(base: string) {
  const response = await fetch(`${base}/status.json`);
  return (await response.json()) as {
    supervisor: { queues: QueueLoad[]; pollers: { receivesUnderWay: number }[] };
  };
}
