import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TaskNotStartedError, WorkerStartError } from "../../src/pool-errors.js";
import { HandlerPool, type RunningHandler, type TaskRequest } from "../../src/pool/pool.js";
import type { Outcome, WireMessage } from "../../src/pool/protocol.js";
import { withDeadline } from "../helpers/deadline.js";
import { eventually } from "../helpers/eventually.js";
import { poolSuite } from "../helpers/pool-suite.js";
import { fixture } from "../helpers/paths.js";

/** The pool on real piscina threads, driven as the dispatcher drives it, with fixture receivers. */
describe("the handler pool", () => {
  const suite = poolSuite();

  function startPool(receivers: readonly string[]): HandlerPool {
    const pool = suite.open({
      threads: 1,
      tasksPerThread: 2,
      receiverModules: receivers.map((name) => fixture("receivers", `${name}.ts`)),
    });
    return pool;
  }

  /** The delivery id each message id was sent with (one delivery per message id in these tests). */
  const deliveryIds = new Map<string, number>();
  const deliveryIdOf = (id: string): number => {
    if (!deliveryIds.has(id)) deliveryIds.set(id, deliveryIds.size + 1);
    return deliveryIds.get(id)!;
  };

  /** One message; the body is JSON-encoded, as the default codec expects. */
  function wire(body: unknown, id: string): WireMessage {
    return { id, deliveryId: deliveryIdOf(id), body: JSON.stringify(body), attributes: {}, messageAttributes: {} };
  }

  /** Starts one run of one message for `queue`, a task of its own. */
  function runSingle(running: HandlerPool, queue: string, body: unknown, id = "m-1"): RunningHandler {
    const [run] = running.runAll({ queue, suffix: undefined, fullName: queue, runs: [{ messages: [wire(body, id)] }] });
    assert.ok(run);
    return run;
  }

  /** One task of single-message runs for `queue`, one per body, with ids m-0, m-1, ... */
  function pack(queue: string, bodies: readonly unknown[]): TaskRequest {
    return {
      queue,
      suffix: undefined,
      fullName: queue,
      runs: bodies.map((body, index) => ({ messages: [wire(body, `m-${index}`)] })),
    };
  }

  async function runOne(running: HandlerPool, queue: string, body: unknown, id?: string): Promise<Outcome> {
    const [outcome] = await runSingle(running, queue, body, id).outcome;
    assert.ok(outcome);
    return outcome;
  }

  describe("a handler's extendVisibility", () => {
    it("goes to the service the supervisor registered, and resolves or fails as it answers", async () => {
      const running = startPool(["extends-visibility"]);
      const calls: [number, number][] = [];
      running.serve("extendVisibility", async (deliveryId, seconds) => {
        calls.push([deliveryId, seconds]);
        return seconds <= 60;
      });
      await running.start();

      assert.equal((await runOne(running, "extends-visibility", 30, "m-granted")).kind, "ok");
      const refused = await runOne(running, "extends-visibility", 600, "m-refused");
      assert.equal(refused.kind, "failed");
      assert.equal(refused.kind === "failed" && refused.error.message, "the visibility timeout could not be extended");
      // Named by the delivery, not the MessageId: a second copy of a message is another delivery.
      assert.deepEqual(calls, [
        [deliveryIdOf("m-granted"), 30],
        [deliveryIdOf("m-refused"), 600],
      ]);
    });

    it("fails with the service's own error when the service throws", async () => {
      const running = startPool(["extends-visibility"]);
      running.serve("extendVisibility", () => {
        throw new RangeError("the receipt handle has expired");
      });
      await running.start();

      const outcome = await runOne(running, "extends-visibility", 30);
      assert.equal(outcome.kind, "failed");
      assert.match(
        outcome.kind === "failed" ? outcome.error.message : "",
        /could not be extended: PoolRequestError: .*RangeError: the receipt handle has expired/,
      );
    });

    it("fails when the supervisor serves no extendVisibility", async () => {
      const running = startPool(["extends-visibility"]);
      await running.start();

      const outcome = await runOne(running, "extends-visibility", 30);
      assert.equal(outcome.kind, "failed");
      assert.match(
        outcome.kind === "failed" ? outcome.error.message : "",
        /the supervisor serves no "extendVisibility"/,
      );
    });
  });

  describe("a task of several runs", () => {
    it("gives each run its own outcome", async () => {
      const running = startPool(["extends-visibility"]);
      running.serve("extendVisibility", async (_messageId, seconds) => seconds <= 60);
      await running.start();

      const runs = running.runAll(pack("extends-visibility", [30, 600, 30]));
      const outcomes = await Promise.all(runs.map(async (run) => (await run.outcome)[0]?.kind));
      assert.deepEqual(outcomes, ["ok", "failed", "ok"]);
      assert.equal(new Set(runs.map((run) => run.runId)).size, 3, "each run has its own id");
    });

    it("starts no more runs at once than tasksPerThread, and one aborted while it waits never starts", async () => {
      // One thread with 2 permits; the handler runs until its own signal aborts.
      const running = startPool(["aborts"]);
      await running.start();

      const [first, second, third] = running.runAll(pack("aborts", [1, 2, 3]));
      assert.ok(first && second && third);
      await eventually(() => suite.ws.events().filter((event) => event.event === "started").length === 2);
      assert.deepEqual(
        suite.ws
          .events()
          .filter((event) => event.event === "started")
          .map((event) => event.id),
        ["m-0", "m-1"],
      );
      assert.ok(first.startedAt() !== undefined && second.startedAt() !== undefined, "the first two started");
      assert.equal(third.startedAt(), undefined, "the third waits for a permit");
      assert.equal(await third.terminateThread(), false, "a run not started has no thread to end");

      // Outcomes come back with the task, once all three runs are over.
      third.abort("drain timed out");
      first.abort("stop");
      second.abort("stop");
      await assert.rejects(third.outcome, (error) => {
        assert.ok(error instanceof TaskNotStartedError, String(error));
        assert.equal(error.reason, "aborted");
        return true;
      });
      assert.deepEqual(
        (await Promise.all([first.outcome, second.outcome])).map((outcomes) => outcomes[0]?.kind),
        ["failed", "failed"],
      );
      assert.ok(!suite.ws.events().some((event) => event.id === "m-2"), "the aborted run never reached its handler");
    });

    it("settles a run that ends before the rest of its task at once, and a thread that dies later keeps it", async () => {
      const running = startPool(["quick-or-waits"]);
      await running.start();

      const [quick, waits] = running.runAll(pack("quick-or-waits", ["now", "wait"]));
      assert.ok(quick && waits);
      // Without its own early result, the quick run would only come back with its task, which never ends here.
      const [outcome] = await withDeadline(quick.outcome, "the quick run's outcome, ahead of its task");
      assert.equal(outcome?.kind, "ok");
      assert.equal(await quick.terminateThread(), false, "a settled run has no thread to end");

      assert.equal(await waits.terminateThread(), true);
      await assert.rejects(waits.outcome, (error) => !(error instanceof TaskNotStartedError));
      assert.equal((await quick.outcome)[0]?.kind, "ok", "the finished run is still a success");
    });
  });

  it("reports a thread that cannot load the receivers as broken, and its tasks as never started", async () => {
    const running = startPool(["breaks-in-threads"]);
    await assert.rejects(running.start(), (error) => {
      assert.ok(error instanceof WorkerStartError);
      assert.match(error.message, /could not load the receiver modules: .*cannot load in a worker thread/);
      return true;
    });
    assert.ok((await running.whenBroken()) instanceof WorkerStartError);

    await assert.rejects(runSingle(running, "breaks-in-threads", {}).outcome, (error) => {
      assert.ok(error instanceof TaskNotStartedError, String(error));
      assert.equal(error.reason, "threadBroken");
      return true;
    });
    // A broken thread still answers the teardown, so closing does not wait for it until the timeout.
    await running.close();
    assert.ok(!suite.log.records.some((record) => /did not finish their teardown hooks/.test(record.message)));
  });

  it("traces runs in a thread where an SDK registered itself without telemetry.setup", async () => {
    // The app's SDK registered by a receiver module (here the setup fixture loaded as one), not by telemetry.setup.
    const running = suite.open({
      threads: 1,
      tasksPerThread: 1,
      receiverModules: [fixture("telemetry", "setup.ts"), fixture("receivers", "traced.ts")],
    });
    await running.start();
    assert.equal((await runOne(running, "traced", {}, "m-traced")).kind, "ok");
    await eventually(() =>
      suite.ws.events().some((event) => (event["span"] as { name?: unknown } | undefined)?.name === "process traced"),
    );
  });

  it("loads the AWS SDK and the OpenTelemetry API in a thread only when a handler first sends", async () => {
    const url = await suite.sqs.createQueue("sent");
    const running = startPool(["sends"]);
    await running.start();

    assert.equal((await runOne(running, "sends", "stay", "m-stays")).kind, "ok");
    const sendOutcome = await runOne(running, "sends", "send", "m-sends");
    assert.equal(sendOutcome.kind, "ok", JSON.stringify(sendOutcome));

    const events = suite.ws.events();
    const stays = events.find((event) => event.id === "m-stays");
    const sends = events.find((event) => event.id === "m-sends");
    assert.deepEqual([stays?.["sdkBefore"], stays?.["sdkAfter"]], [false, false], "a handler that does not send");
    assert.deepEqual([sends?.["sdkBefore"], sends?.["sdkAfter"]], [false, true], "the first send loads it");
    // With no telemetry.setup and nothing registered, runs are not traced: the API loads with the send span.
    assert.deepEqual([stays?.["otelBefore"], stays?.["otelAfter"]], [false, false], "no OpenTelemetry API");
    assert.deepEqual([sends?.["otelBefore"], sends?.["otelAfter"]], [false, true], "the first send loads the API");
    assert.deepEqual(await suite.sqs.counts(url), { visible: 1, inFlight: 0, delayed: 0 });
  });

  it("grows from minThreads under load, and ends an idle thread only after its teardown hooks", async () => {
    const pool = suite.open({
      threads: 2,
      minThreads: 1,
      threadIdleMs: 300,
      tasksPerThread: 2,
      receiverModules: ["hooks", "blocks-until-gate"].map((name) => fixture("receivers", `${name}.ts`)),
    });
    await withDeadline(pool.start(), "the first thread");
    assert.equal(pool.threadCount, 1);
    // The only thread blocks; the next task goes to a thread the pool starts for it, not behind the block.
    const blocked = runSingle(pool, "blocks-until-gate", {}, "gate-1");
    await eventually(() => suite.ws.events().some((event) => event.event === "started"), { timeoutMs: 30_000 });
    const hooked = runSingle(pool, "hooks", {}, "h-1");
    await withDeadline(hooked.outcome, "the hooks run");
    assert.equal(pool.threadCount, 2);
    suite.ws.openGate("gate-1");
    await withDeadline(blocked.outcome, "the blocked run");

    await eventually(() => pool.threadCount === 1, { timeoutMs: 30_000 });
    const [setup] = suite.ws.events().filter((event) => event.event === "setup");
    assert.ok(setup);
    const tornDownBeforeClose = suite.ws.events().filter((event) => event.event === "teardown");
    // The thread left is the one that runs the next message: if it is not the one that ran setup, that one ended
    // for idleness, and its teardown hook ran before it did.
    await withDeadline(runSingle(pool, "hooks", {}, "h-2").outcome, "a run after the pool shrank");
    const alive = suite.ws.events().find((event) => event.event === "handled" && event.id === "h-2")!.threadId;
    if (alive !== setup.threadId)
      assert.deepEqual(
        tornDownBeforeClose.map((event) => event.threadId),
        [setup.threadId],
      );
    assert.equal(pool.threadReplacements, 0, "a thread ended for idleness is not a replacement");
    assert.ok(suite.log.records.some((record) => record.message === "ended an idle pool thread"));
    await pool.close();
    const setups = suite.ws
      .events()
      .filter((event) => event.event === "setup")
      .map((event) => event.threadId);
    const teardowns = suite.ws
      .events()
      .filter((event) => event.event === "teardown")
      .map((event) => event.threadId);
    assert.deepEqual(new Set(teardowns), new Set(setups));
  });
});
