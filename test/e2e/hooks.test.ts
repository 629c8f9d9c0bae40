import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { Scenario } from "../helpers/scenario.js";

/** What handlers get from the daemon besides the message: per-thread hooks and a shutdown signal. */
describe("handler lifecycle", () => {
  let scenario: Scenario;
  afterEach(() => scenario.dispose());

  it("runs setup once per thread before the first message, and teardown at shutdown", async () => {
    scenario = await Scenario.start();
    const { sqs, ws } = scenario;
    const url = await sqs.createQueue("hooks");
    await sqs.sendMany(
      url,
      Array.from({ length: 12 }, (_, index) => String(index)),
    );
    const configPath = scenario.writeConfig(["hooks"], { pool: { threads: 2, tasksPerThread: 2 } });

    const result = await scenario.run(["--config", configPath, "--message-limit", "12"]);

    assert.equal(result.code, 0, result.stderr);
    const events = ws.events();
    const handled = events.filter((event) => event.event === "handled");
    assert.equal(handled.length, 12);
    assert.ok(
      handled.every((event) => event["connectionOpen"] === true),
      "every handler saw its thread's setup",
    );
    const setups = events.filter((event) => event.event === "setup");
    const threadsUsed = new Set(handled.map((event) => event.threadId));
    assert.deepEqual(new Set(setups.map((event) => event.threadId)), threadsUsed);
    assert.equal(setups.length, threadsUsed.size, "one setup per thread");
    for (const setup of setups) {
      const firstHandled = handled.find((event) => event.threadId === setup.threadId);
      assert.ok(firstHandled && setup.at <= firstHandled.at);
    }
    const teardowns = events.filter((event) => event.event === "teardown");
    assert.deepEqual(teardowns.map((event) => event.threadId).sort(), setups.map((event) => event.threadId).sort());
  });

  it("aborts message.signal when a drain times out, and releases the message at once", async () => {
    scenario = await Scenario.start();
    const { sqs, ws } = scenario;
    const url = await sqs.createQueue("aborts", { VisibilityTimeout: "120" });
    const id = await sqs.send(url, "{}");
    const configPath = scenario.writeConfig(["aborts"], {
      defaults: { visibilityTimeoutSeconds: 120 },
      drainTimeoutMs: 300,
    });
    const daemon = scenario.spawn(["--config", configPath]);
    await daemon.started();
    await eventually(() => ws.events().some((event) => event.event === "started"));
    daemon.kill("SIGTERM");
    const status = await daemon.exited;

    assert.equal(status.code, 1, "a drain that had to interrupt handlers is not a clean exit");
    const aborted = ws.events().find((event) => event.event === "aborted");
    assert.equal(aborted?.id, id);
    assert.equal(aborted?.["reason"], "sqsd is shutting down");
    assert.ok(daemon.logs.some((record) => record.outcome === "interrupted" && record.messageId === id));
    assert.ok(!daemon.logs.some((record) => record.message === "handler failed"));
    assert.deepEqual(await sqs.counts(url), { visible: 1, inFlight: 0, delayed: 0 });
  });
});
