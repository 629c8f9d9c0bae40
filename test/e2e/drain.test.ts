import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { Scenario } from "../helpers/scenario.js";
import { sqsServers } from "../helpers/local-sqs.js";

/** SIGTERM and SIGINT: finish what runs, give back what did not start, lose nothing, exit 0. */
for (const server of sqsServers())
  describe(`graceful drain on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario;
    afterEach(() => scenario.dispose());

    /**
     * `handler` is how long each handler runs, or "gated": each waits on a gate of its own, which its body names,
     * until the test opens it.
     */
    async function startSlowDaemon(options: {
      handler: { ms: number } | "gated";
      messages: number;
      drainTimeoutMs: number;
    }) {
      scenario = await Scenario.start({ server: server.name });
      const { sqs, ws } = scenario;
      // A long visibility timeout: a message stranded in flight would stay invisible for the whole test.
      const url = await sqs.createQueue("slow", { VisibilityTimeout: "120" });
      const ids = await sqs.sendMany(
        url,
        Array.from({ length: options.messages }, (_, n) =>
          JSON.stringify(options.handler === "gated" ? { gate: `message-${n}` } : options.handler),
        ),
      );
      const configPath = scenario.writeConfig(["slow"], {
        defaults: { visibilityTimeoutSeconds: 120 },
        pool: { threads: 2, tasksPerThread: 2 },
        drainTimeoutMs: options.drainTimeoutMs,
      });
      const daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
      // The pool holds 4: wait until all four handlers are running.
      await eventually(() => ws.events().filter((event) => event.event === "started").length === 4);
      return { sqs, ws, url, ids, daemon };
    }

    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      it(`on ${signal}, finishes the running handlers and leaves the rest visible at once`, async () => {
        // The handlers wait for the test to let them go: none can end and free its slot for a fifth before the
        // signal, however slow the machine, and all four are still running when the drain begins.
        const { sqs, ws, url, ids, daemon } = await startSlowDaemon({
          handler: "gated",
          messages: 10,
          drainTimeoutMs: 20_000,
        });
        daemon.kill(signal);
        await daemon.waitForLog((record) => record.message === "draining");
        // One at a time, so that slots free up while the drain still waits on the others: a daemon still receiving
        // would start a fifth handler in one, whose gate stays shut, and the drain would time out.
        for (const started of ws.events().filter((event) => event.event === "started")) {
          ws.openGate((started.body as { gate: string }).gate);
          await eventually(() => ws.events().some((event) => event.id === started.id && event.event === "handled"));
        }
        const status = await daemon.exited;

        assert.deepEqual(status, { code: 0, signal: null }, daemon.stderr);
        assert.equal(daemon.logsWith("stopped")[0]?.interrupted, 0, "no handler was cut short");
        const handled = ws.events().filter((event) => event.event === "handled");
        assert.equal(handled.length, 4, "the four running handlers completed");
        // Completed messages were deleted; the others are visible right away (not in flight until a timeout).
        const counts = await sqs.counts(url);
        assert.deepEqual(counts, { visible: 6, inFlight: 0, delayed: 0 });
        // Nothing lost: every message sent was processed or is still in the queue.
        const remaining = await sqs.receive(url, { max: 10, waitSeconds: 0 });
        assert.deepEqual(
          new Set([...handled.map((event) => event.id), ...remaining.map((message) => message.MessageId)]),
          new Set(ids),
        );
        assert.ok(daemon.logsWith("draining")[0]?.reason?.includes(signal));
      });
    }

    it("interrupts handlers that outlive the drain timeout, releases their messages, and exits 1", async () => {
      const { sqs, url, daemon } = await startSlowDaemon({ handler: { ms: 60_000 }, messages: 4, drainTimeoutMs: 500 });
      daemon.kill("SIGTERM");
      const status = await daemon.exited;
      assert.equal(status.code, 1, daemon.stderr);
      assert.equal(daemon.logsWith("stopped")[0]?.interrupted, 4);
      // Released with visibility 0: all four are receivable again at once.
      assert.deepEqual(await sqs.counts(url), { visible: 4, inFlight: 0, delayed: 0 });
    });

    it("with drainPolls abort, stops an idle daemon without waiting out its long poll, and loses nothing", async () => {
      scenario = await Scenario.start({ server: server.name });
      const { sqs } = scenario;
      const url = await sqs.createQueue("ok", { VisibilityTimeout: "2" });
      const configPath = scenario.writeConfig(["ok"], {
        drainPolls: "abort",
        defaults: { waitTimeSeconds: 20, visibilityTimeoutSeconds: 2 },
      });
      const daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
      const signalledAt = Date.now();
      daemon.kill("SIGTERM");
      await daemon.waitForLog((record) => record.message === "draining");
      // Sent once the daemon receives no more, while its aborted poll may still wait at the server, which may
      // hand it this message.
      const id = await sqs.send(url, JSON.stringify("sent during the drain"));
      const status = await daemon.exited;
      assert.equal(status.code, 0);
      assert.ok(Date.now() - signalledAt < 20_000, "stopped before its 20 s long poll could have returned");
      assert.equal(daemon.logsWith("waiting for long polls under way to return").length, 0);
      assert.equal(scenario.ws.events().length, 0, "no handler ran");
      // At worst the dead poll took it, and it comes back after its 2 s visibility timeout: delayed, not lost.
      const received = await eventually(async () => {
        const ids = (await sqs.receive(url)).map((message) => message.MessageId);
        return ids.length > 0 && ids;
      });
      assert.deepEqual(received, [id]);
    });

    it("by default, lets a long poll under way return before it exits", async () => {
      scenario = await Scenario.start({ server: server.name });
      await scenario.sqs.createQueue("ok");
      const configPath = scenario.writeConfig(["ok"], { defaults: { waitTimeSeconds: 3 } });
      const daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
      daemon.kill("SIGTERM");
      assert.equal((await daemon.exited).code, 0);
      assert.equal(daemon.logsWith("waiting for long polls under way to return").length, 1);
    });

    it("exits at once, non-zero, on a second signal", async () => {
      const { daemon } = await startSlowDaemon({ handler: { ms: 60_000 }, messages: 4, drainTimeoutMs: 60_000 });
      daemon.kill("SIGTERM");
      await daemon.waitForLog((record) => record.message === "draining");
      daemon.kill("SIGTERM");
      const status = await daemon.exited;
      assert.equal(status.code, 143);
      assert.ok(daemon.logs.some((record) => record.message.startsWith("second SIGTERM")));
    });

    it("on a second signal during a 30 s handler, exits non-zero without waiting for hooks or schedules", async () => {
      scenario = await Scenario.start({ server: server.name });
      const { sqs, ws } = scenario;
      const url = await sqs.createQueue("slow-teardown", { VisibilityTimeout: "120" });
      const configPath = scenario.writeConfig(["slow-teardown"], {
        defaults: { visibilityTimeoutSeconds: 120 },
        drainTimeoutMs: 60_000,
        // A schedule runner stops within 30 s; a forced exit must not wait for it either.
        schedules: [{ name: "nightly", cron: "0 3 * * *", queue: "slow-teardown" }],
      });
      const daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
      await sqs.send(url, JSON.stringify({ ms: 30_000 }));
      await eventually(() => ws.events().some((event) => event.event === "started"));
      daemon.kill("SIGTERM");
      await daemon.waitForLog((record) => record.message === "draining");
      const secondAt = Date.now();
      daemon.kill("SIGTERM");
      const status = await daemon.exited;
      const seconds = (Date.now() - secondAt) / 1000;
      assert.equal(status.code, 143, daemon.stderr);
      // The teardown hooks take 20 s and the handler 30 s: an exit that waited for either is far past this.
      // (It takes well under a second; the margin is for a busy machine.)
      assert.ok(seconds < 5, `exited ${seconds.toFixed(1)} s after the second signal`);
      assert.equal(ws.events().filter((event) => event.event === "handled").length, 0);
    });
  });
