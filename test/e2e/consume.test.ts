import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { eventually } from "../helpers/eventually.js";
import { TEST_CREDENTIALS, type TestSqs, sqsServers } from "../helpers/local-sqs.js";
import { testConfig } from "../helpers/config.js";
import { ONE_RECEIVE_LANE } from "../helpers/moto.js";
import { Scenario } from "../helpers/scenario.js";
import type { Workspace } from "../helpers/workspace.js";

/** The CLI as a user runs it: which queues one `sqsd` process consumes, and where handlers run. */
for (const server of sqsServers())
  describe(`sqsd run on ${server.name}`, { skip: server.skip }, () => {
    // Each test gets its own SQS server and folder, so no queue state leaks between them.
    let scenario: Scenario;
    let sqs: TestSqs;
    let ws: Workspace;
    const fresh = async (): Promise<void> => {
      scenario = await Scenario.start({ server: server.name });
      ({ sqs, ws } = scenario);
    };
    afterEach(() => scenario.dispose());

    /**
     * Spawns `sqsd` expecting it to refuse at start-up; fails as soon as it starts consuming instead (a daemon
     * that starts never exits by itself).
     */
    const expectRefusal = async (args: readonly string[]) => {
      const daemon = scenario.spawn(args);
      await eventually(() => daemon.child.exitCode !== null || daemon.logsWith("sqsd started").length > 0, {
        timeoutMs: 60_000,
      });
      assert.equal(daemon.logsWith("sqsd started").length, 0, `it started: ${daemon.stdoutLines.join("\n")}`);
      const status = await daemon.exited;
      return { ...status, stderr: daemon.stderr, logs: daemon.logs };
    };

    it("consumes three queues in one process, running handlers on worker threads", async () => {
      await fresh();
      const urls = {
        ok: await sqs.createQueue("ok"),
        alsoOk: await sqs.createQueue("alsoOk"),
        "raw-ok": await sqs.createQueue("raw-ok"),
      };
      await sqs.sendMany(urls.ok, ["1", "2", "3"]);
      await sqs.sendMany(urls.alsoOk, ["4", "5", "6"]);
      await sqs.sendMany(urls["raw-ok"], ["plain text", "more", "text"]);
      const configPath = scenario.writeConfig(["ok", "also-ok", "raw-ok"]);

      const result = await scenario.run(["--config", configPath, "--message-limit", "9"]);

      assert.equal(result.code, 0, result.stderr);
      const events = ws.events();
      assert.equal(events.length, 9);
      assert.deepEqual(new Set(events.map((event) => event.queue)), new Set(["ok", "alsoOk", "raw-ok"]));
      // One process: every handler ran in the daemon's own process, not in processes it started.
      assert.ok(result.pid !== undefined);
      assert.deepEqual(new Set(events.map((event) => event.pid)), new Set([result.pid]));
      // On worker threads, never on the supervisor's main thread (thread id 0).
      for (const event of events) {
        assert.equal(event.isMainThread, false, `${event.queue} handler ran on the main thread`);
        assert.notEqual(event.threadId, 0, `${event.queue} handler ran on the main thread`);
      }
      // The raw codec passed strings through; json decoded numbers.
      assert.ok(events.some((event) => event.queue === "raw-ok" && event.body === "plain text"));
      assert.ok(events.some((event) => event.queue === "ok" && event.body === 1));
      for (const url of Object.values(urls))
        assert.deepEqual(await sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 });
    });

    it("stops after --message-limit messages, counting messages rather than polls", async () => {
      await fresh();
      const url = await sqs.createQueue("ok");
      await sqs.sendMany(
        url,
        Array.from({ length: 10 }, (_, index) => String(index)),
      );
      // On moto, one receive lane: two receives at once can both take one message there (MOTO_DEFECTS), which
      // would run it twice and leave four runs with three messages deleted.
      const configPath = scenario.writeConfig(["ok"], server.name === "moto" ? { pool: ONE_RECEIVE_LANE } : {});

      const result = await scenario.run(["--config", configPath, "--message-limit", "4"]);

      assert.equal(result.code, 0, result.stderr);
      assert.equal(ws.events().length, 4);
      // Only what it processed was taken from the queue: the other six are visible, none stranded in flight.
      assert.deepEqual(await sqs.counts(url), { visible: 6, inFlight: 0, delayed: 0 });
      const stopped = result.logs.find((record) => record.message === "stopped");
      assert.equal(stopped?.reason, "message limit of 4 reached");
    });

    it("consumes only the suffixes given with --suffix", async () => {
      await fresh();
      const base = await sqs.createQueue("suffixed");
      const big = await sqs.createQueue("suffixed__big");
      await sqs.sendMany(base, ["1", "2"]);
      await sqs.sendMany(big, ["3", "4"]);
      const configPath = scenario.writeConfig(["suffixed"]);

      const result = await scenario.run(["--config", configPath, "--suffix", "big", "--message-limit", "2"]);

      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        ws.events().map((event) => [event.fullName, event.suffix]),
        [
          ["suffixed__big", "big"],
          ["suffixed__big", "big"],
        ],
      );
      assert.equal((await sqs.counts(base)).visible, 2);
      assert.equal((await sqs.counts(big)).visible, 0);
    });

    it("--suffix takes one value: `--suffix big gamma` is suffix big and queue gamma, as in django-sqs", async () => {
      await fresh();
      await sqs.createQueue("suffixed");
      await sqs.send(await sqs.createQueue("suffixed__big"), "1");
      const configPath = scenario.writeConfig(["suffixed"]);
      const createdBefore = sqs.requests("CreateQueue");

      const result = await expectRefusal(["--config", configPath, "--suffix", "big", "gamma", "--message-limit", "1"]);

      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^sqsd: unknown queue "gamma" \(registered queues: suffixed\)$/m);
      assert.equal(sqs.requests("CreateQueue"), createdBefore, "no queue was created");
      assert.equal(ws.events().length, 0);
    });

    it("consumes every suffix of a repeated --suffix; an undeclared one warns and is used where its queue exists", async () => {
      await fresh();
      const big = await sqs.createQueue("suffixed__big");
      const gamma = await sqs.createQueue("suffixed__gamma");
      await sqs.send(big, "1");
      await sqs.send(gamma, "2");
      const configPath = scenario.writeConfig(["suffixed"]);
      const createdBefore = sqs.requests("CreateQueue");

      const result = await scenario.run([
        "--config",
        configPath,
        "--suffix",
        "big",
        "--suffix",
        "gamma",
        "--message-limit",
        "2",
      ]);

      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.logs.find((record) => record.message === "sqsd started")?.queues, [
        "suffixed__big",
        "suffixed__gamma",
      ]);
      assert.deepEqual(
        new Set(ws.events().map((event) => event.fullName)),
        new Set(["suffixed__big", "suffixed__gamma"]),
      );
      const warning = result.logs.find((record) => record.code === "SQSD_UNKNOWN_SUFFIX");
      assert.equal(warning?.level, "warn");
      assert.match(warning?.message ?? "", /queue "suffixed" has no declared suffix "gamma"/);
      assert.equal(sqs.requests("CreateQueue"), createdBefore, "no queue was created");
    });

    it("an undeclared --suffix whose queues do not exist is a usage error naming them, and creates none", async () => {
      await fresh();
      await sqs.createQueue("suffixed");
      const configPath = scenario.writeConfig(["suffixed", "ok"]); // createQueues: true
      const createdBefore = sqs.requests("CreateQueue");

      const result = await expectRefusal(["--config", configPath, "--suffix", "gamma"]);

      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /^sqsd: --suffix "gamma" is not declared for these queues, and they do not exist: ok__gamma, suffixed__gamma\. /m,
      );
      assert.ok(
        result.logs.some((record) => record.code === "SQSD_UNKNOWN_SUFFIX"),
        "it still warns",
      );
      assert.equal(sqs.requests("CreateQueue"), createdBefore, "no queue was created");
    });

    it("--suffix without a value is a usage error, not a start", async () => {
      await fresh();
      await sqs.createQueue("suffixed");
      const configPath = scenario.writeConfig(["suffixed"]);
      for (const args of [
        ["--suffix"],
        ["suffixed", "--suffix"],
        ["--suffix="],
        ["--suffix", "--message-limit", "1"],
      ]) {
        const result = await expectRefusal(["--config", configPath, ...args]);
        assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /^sqsd: .*suffix/m, args.join(" "));
      }
    });

    it("consumes the base queue and every declared suffix by default", async () => {
      await fresh();
      const base = await sqs.createQueue("suffixed");
      const big = await sqs.createQueue("suffixed__big");
      await sqs.sendMany(base, ["3", "4"]);
      await sqs.sendMany(big, ["5", "6"]);
      const configPath = scenario.writeConfig(["suffixed"]);
      const result = await scenario.run(["--config", configPath, "--message-limit", "4"]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.logs.find((record) => record.message === "sqsd started")?.queues, [
        "suffixed",
        "suffixed__big",
      ]);
      assert.deepEqual(new Set(ws.events().map((event) => event.fullName)), new Set(["suffixed", "suffixed__big"]));
      assert.deepEqual(await sqs.counts(base), { visible: 0, inFlight: 0, delayed: 0 });
    });

    it("consumes only the queues named on the command line", async () => {
      await fresh();
      const ok = await sqs.createQueue("ok");
      const alsoOk = await sqs.createQueue("alsoOk");
      await sqs.sendMany(ok, ["1", "2"]);
      await sqs.sendMany(alsoOk, ["3", "4"]);
      const configPath = scenario.writeConfig(["ok", "also-ok"]);

      const result = await scenario.run(["--config", configPath, "--message-limit", "2", "alsoOk"]);

      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        ws.events().map((event) => event.queue),
        ["alsoOk", "alsoOk"],
      );
      assert.equal((await sqs.counts(ok)).visible, 2);
    });

    it("applies the queue prefix, as django-sqs named queues", async () => {
      await fresh();
      const url = await sqs.createQueue("staging__ok");
      await sqs.send(url, "7");
      const configPath = scenario.writeConfig(["ok"], { queuePrefix: "staging" });
      const result = await scenario.run(["--config", configPath, "--message-limit", "1"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(ws.events()[0]?.fullName, "staging__ok");
    });

    it("starts the embedded server with --embedded, creates the queues and logs the endpoint", async () => {
      await fresh();
      // The config names the test server as its endpoint; --embedded must take its place.
      const configPath = ws.writeConfig({ ...testConfig(sqs, ["ok"]), embedded: { port: 0 } });
      const testServerReceives = sqs.requests("ReceiveMessage");
      const daemon = scenario.spawn(["--config", configPath, "--embedded", "--message-limit", "1"]);
      const listening = await daemon.waitForLog((record) => record.message === "embedded SQS server listening");
      assert.match(listening.endpoint ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
      await daemon.started();
      const client = new SQSClient({
        endpoint: listening.endpoint!,
        region: "us-east-1",
        credentials: TEST_CREDENTIALS,
      });
      try {
        const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: "ok" }));
        await client.send(new SendMessageCommand({ QueueUrl, MessageBody: '"from another process"' }));
      } finally {
        client.destroy();
      }
      const status = await daemon.exited;
      assert.equal(status.code, 0, daemon.stderr);
      assert.equal(ws.events()[0]?.body, "from another process");
      assert.equal(sqs.requests("ReceiveMessage"), testServerReceives, "the config's endpoint was not polled");
    });
  });
