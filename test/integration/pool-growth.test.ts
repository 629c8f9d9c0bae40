import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { importUserModule, nativeTypeScript, typeScriptLoader } from "../../src/loader.js";
import type { WireMessage } from "../../src/pool/protocol.js";
import { withDeadline } from "../helpers/deadline.js";
import { eventually } from "../helpers/eventually.js";
import { poolSuite } from "../helpers/pool-suite.js";
import { fixture } from "../helpers/paths.js";

/** How pool threads start and how the pool grows on demand, on real piscina threads with fixture receivers. */
describe("pool threads", () => {
  // A thread still loading would hold the close until its teardown timeout.
  const suite = poolSuite((ws) => {
    ws.openGate("later-loads");
    ws.openGate("first-run");
    ws.openGate("first-loads");
  });

  const wire = (id: string, body: unknown): WireMessage => ({
    id,
    deliveryId: Number(id.replace(/\D/g, "")),
    body: JSON.stringify(body),
    attributes: {},
    messageAttributes: {},
  });

  it('resolve "sqsd" to the thread entry, which does not load zod', async () => {
    const running = suite.open({
      threads: 1,
      tasksPerThread: 1,
      receiverModules: [fixture("receivers", "records-entry.ts")],
    });
    await withDeadline(running.start(), "the thread");
    const [run] = running.runAll({
      queue: "records-entry",
      suffix: undefined,
      fullName: "records-entry",
      runs: [{ messages: [wire("m-1", {})] }],
    });
    assert.equal((await withDeadline(run!.outcome, "the run"))[0]?.kind, "ok");
    const handled = suite.ws.events().find((event) => event.event === "handled");
    assert.match(String(handled?.["sqsd"]), /\/dist\/src\/thread-api\.js$/);
  });

  it(
    "loads the receivers' TypeScript as the supervisor stripped it, without a type stripper of its own",
    {
      skip: !nativeTypeScript()
        ? `Node ${process.version} does not strip types itself (22.18+ does)`
        : process.env["NODE_COMPILE_CACHE"]
          ? "NODE_COMPILE_CACHE is set for this run: threads then read stripped code from the cache instead"
          : false,
    },
    async () => {
      const file = fixture("receivers", "erasable.ts");
      // The supervisor's own load, with Node's loader: it keeps the source for the threads.
      await importUserModule(file);
      assert.equal(typeScriptLoader(), "native");
      const running = suite.open({
        threads: 1,
        tasksPerThread: 1,
        receiverModules: [file],
        typescriptLoader: typeScriptLoader(),
      });
      await withDeadline(running.start(), "the thread");
      const [run] = running.runAll({
        queue: "erasable",
        suffix: undefined,
        fullName: "erasable",
        runs: [{ messages: [wire("m-1", {})] }],
      });
      assert.equal((await withDeadline(run!.outcome, "the run"))[0]?.kind, "ok");
      const handled = suite.ws.events().find((event) => event.event === "handled");
      assert.equal(handled?.["isMainThread"], false);
      assert.equal(handled?.["typeStripper"], false, "the thread instantiated Node's type stripper");
    },
  );

  it("gives no task to a thread piscina started with the pool while it still loads the receivers", async () => {
    // piscina marks the threads it starts with the pool ready at once, before they have loaded anything.
    const running = suite.open({
      threads: 2,
      minThreads: 1,
      tasksPerThread: 1,
      receiverModules: [fixture("receivers", "slow-to-load-first.ts")],
    });
    await eventually(() => existsSync(`${suite.ws.eventsFile}.first-load`), { timeoutMs: 30_000 });
    const [run] = running.runAll({
      queue: "slow-first",
      suffix: undefined,
      fullName: "slow-first",
      runs: [{ messages: [wire("m-1", {})] }],
    });
    // The first thread waits on its gate until the test ends: the task must go to a thread the pool adds.
    const [outcome] = await withDeadline(run!.outcome, "the run, while the first thread still loads");
    assert.equal(outcome?.kind, "ok");
    assert.equal(running.threadCount, 2);
  });

  it("gives a queued task to the thread that frees up, not to one still loading the receivers", async () => {
    const running = suite.open({
      threads: 2,
      minThreads: 1,
      tasksPerThread: 1,
      receiverModules: [fixture("receivers", "slow-to-load-after-first.ts")],
    });
    await withDeadline(running.start(), "the first thread");
    const run = (id: string, body: unknown) =>
      running.runAll({
        queue: "slow-to-load",
        suffix: undefined,
        fullName: "slow-to-load",
        runs: [{ messages: [wire(id, body)] }],
      })[0]!;
    const first = run("m-1", { gate: "first-run" });
    await eventually(() => suite.ws.events().some((event) => event.event === "started"), { timeoutMs: 30_000 });
    // The only thread is busy: the pool starts a second one, which stays loading until the test says so, and
    // the task waits in piscina's queue.
    const second = run("m-2", {});
    await eventually(() => running.threadCount === 2, { timeoutMs: 30_000 });
    suite.ws.openGate("first-run");
    await withDeadline(first.outcome, "the first run");
    // The first thread is free now; the second is still loading. The waiting task must not go to the latter.
    const [outcome] = await withDeadline(second.outcome, "the queued run, while the added thread still loads");
    assert.equal(outcome?.kind, "ok");
    const threadOf = (id: string) =>
      suite.ws.events().find((event) => event.event === "handled" && event.id === id)?.threadId;
    assert.equal(threadOf("m-2"), threadOf("m-1"));
    // A close while a thread still starts waits only for threads that could have run hooks.
    await withDeadline(running.close(), "the close");
    assert.deepEqual(
      suite.log.records.filter((record) => record.level === "warn").map((record) => record.message),
      [],
    );
  });
  it("runs the first task of a thread the pool added, whose admission it asked before piscina reported it", async () => {
    const running = suite.open({
      threads: 2,
      minThreads: 1,
      tasksPerThread: 1,
      receiverModules: [fixture("receivers", "slow-to-load-after-first.ts")],
    });
    await withDeadline(running.start(), "the first thread");
    const run = (id: string, body: unknown) =>
      running.runAll({
        queue: "slow-to-load",
        suffix: undefined,
        fullName: "slow-to-load",
        runs: [{ messages: [wire(id, body)] }],
      })[0]!;
    // The first thread stays busy, so the second task can only run on the thread the pool adds for it.
    const first = run("m-1", { gate: "first-run" });
    await eventually(() => suite.ws.events().some((event) => event.event === "started"), { timeoutMs: 30_000 });
    const second = run("m-2", {});
    await eventually(() => running.threadCount === 2, { timeoutMs: 30_000 });
    suite.ws.openGate("later-loads");
    const [outcome] = await withDeadline(second.outcome, "the added thread's first run");
    assert.equal(outcome?.kind, "ok");
    const threadOf = (id: string) =>
      suite.ws.events().find((event) => event.event === "started" && event.id === id)?.threadId;
    assert.notEqual(threadOf("m-2"), threadOf("m-1"), "the first thread was busy all along");
    suite.ws.openGate("first-run");
    await withDeadline(first.outcome, "the first run");
  });
});
