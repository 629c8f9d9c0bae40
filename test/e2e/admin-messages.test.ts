import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { AdminScenario } from "../helpers/admin.js";
import { eventually } from "../helpers/eventually.js";
import { sqsServers } from "../helpers/local-sqs.js";

/** The queue-admin commands that work on messages, spawned as an operator runs them. */
for (const server of sqsServers())
  describe(`sqsd clear, wait, send and peek on ${server.name}`, { skip: server.skip }, () => {
    let admin: AdminScenario;
    beforeEach(async () => {
      admin = await AdminScenario.start({ server: server.name });
    });
    afterEach(() => admin.dispose());

    it("clear deletes what is visible, reports the count, and leaves in-flight messages alone", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      const url = await admin.urlOf("emails");
      await admin.scenario.sqs.sendMany(url, ["a", "b", "c", "d", "e", "f"]);
      await admin.scenario.sqs.receive(url, { max: 1, visibilitySeconds: 300 });
      const result = await admin.sqsd("clear", "emails", "--yes");
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout.trim(),
        "emails: 5 deleted; left alone: 1 in flight (run clear again once they are visible)",
      );
      assert.deepEqual(await admin.scenario.sqs.counts(url), { visible: 0, inFlight: 1, delayed: 0 });
    });

    it("clear without a terminal and without --yes refuses (exit 2) and deletes nothing", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      const emails = await admin.urlOf("emails");
      const orders = await admin.urlOf("orders");
      await admin.scenario.sqs.sendMany(emails, ["a", "b"]);
      await admin.scenario.sqs.send(orders, '{"n":1}');
      // Spawned with pipes, as from a script or cron: stdin is no terminal to ask on. No queue names: all of them.
      const result = await admin.sqsd("clear");
      assert.equal(result.code, 2, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
      assert.match(result.stderr, /^sqsd: clear deletes messages and there is no terminal to confirm on; pass --yes/m);
      assert.equal(admin.scenario.sqs.requests("ReceiveMessage"), 0);
      assert.equal(admin.scenario.sqs.requests("PurgeQueue"), 0);
      assert.deepEqual(await admin.scenario.sqs.counts(emails), { visible: 2, inFlight: 0, delayed: 0 });
      assert.deepEqual(await admin.scenario.sqs.counts(orders), { visible: 1, inFlight: 0, delayed: 0 });
    });

    it("clear --purge empties a queue with PurgeQueue", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      const url = await admin.urlOf("emails");
      await admin.scenario.sqs.sendMany(url, ["a", "b"]);
      const result = await admin.sqsd("clear", "emails", "--purge", "--yes", "--json");
      assert.equal(result.code, 0, result.stderr);
      assert.equal((result.json()["queues"] as { purged: boolean }[])[0]?.purged, true);
      assert.equal(admin.scenario.sqs.requests("PurgeQueue"), 1);
      assert.deepEqual(await admin.scenario.sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 });
    });

    it("wait exits 0 once a consumer has emptied the queue, and 1 on timeout when nothing does", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      await admin.scenario.sqs.sendMany(await admin.urlOf("emails"), ["a", "b", "c"]);
      await admin.scenario.sqs.send(await admin.urlOf("orders"), "7");

      const timedOut = await admin.sqsd("wait", "emails", "--timeout-seconds", "2", "--interval-seconds", "1");
      assert.equal(timedOut.code, 1, timedOut.stderr);
      assert.match(timedOut.stdout, /timed out after 2 s; not empty: emails \(3 visible, 0 in flight, 0 delayed\)/);

      const waiting = admin.sqsd(
        "wait",
        "emails",
        "--interval-seconds",
        "1",
        "--cycles",
        "2",
        "--timeout-seconds",
        "60",
      );
      const consumer = admin.scenario.spawn(["--config", admin.configPath, "emails"]);
      await consumer.started();
      const result = await waiting;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /all 1 queue\(s\) empty for 2 check\(s\) in a row/);
      const events = admin.scenario.ws.events();
      assert.equal(
        events.length,
        3,
        JSON.stringify(
          events.map(({ event, id, receiveCount, pid, threadId }) => ({ event, id, receiveCount, pid, threadId })),
        ),
      );
    });

    it("wait --timeout-seconds waits the whole timeout, even when the next check would fall after it", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      await admin.scenario.sqs.send(await admin.urlOf("emails"), "a");
      // Checks 10 s apart and a 3 s timeout: the next check never fits before the deadline. Only a lower bound is
      // asserted, which load can only make larger: the command measures from its own start.
      const startedMs = performance.now();
      const result = await admin.sqsd("wait", "emails", "--timeout-seconds", "3", "--interval-seconds", "10", "--json");
      const elapsedMs = performance.now() - startedMs;
      assert.equal(result.code, 1, result.stderr);
      assert.ok(elapsedMs >= 3000, `the command ended ${Math.round(elapsedMs)} ms after it was spawned`);
      const waitedMs = result.json()["waitedMs"];
      assert.ok(
        typeof waitedMs === "number" && waitedMs >= 3000,
        `gave up after ${String(waitedMs)} ms of a 3 s timeout`,
      );
      assert.equal(result.json()["empty"], false);
    });

    it("wait interrupted by Ctrl-C says so, not that it timed out", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      await admin.scenario.sqs.send(await admin.urlOf("emails"), "a");
      const waiting = admin.scenario.spawn([
        "--config",
        admin.configPath,
        "wait",
        "emails",
        "--timeout-seconds",
        "600",
      ]);
      await eventually(() => waiting.stdoutLines.some((line) => line.startsWith("waiting: ")));
      waiting.kill("SIGINT");
      assert.equal((await waiting.exited).code, 1, waiting.stderr);
      assert.match(waiting.stdoutLines.at(-1) ?? "", /^interrupted after \d+ s; not empty: emails \(1 visible/);
    });

    it("send encodes through the queue's codec, with suffix, attributes and a body from stdin", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      const json = await admin.sqsd(
        "send",
        "orders",
        '{"orderId":"A-1"}',
        "--suffix",
        "eu",
        "--attr",
        "source=cli",
        "--json",
      );
      assert.equal(json.code, 0, json.stderr);
      const [message] = await admin.scenario.sqs.receive(await admin.urlOf("orders__eu"));
      assert.equal(message?.MessageId, json.json()["messageId"]);
      assert.equal(message?.Body, '{"orderId":"A-1"}');
      assert.deepEqual(message?.MessageAttributes, { source: { DataType: "String", StringValue: "cli" } });

      const bad = await admin.sqsd("send", "orders", "{not json");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /queue "orders" uses the json codec, so the body must be JSON/);

      const raw = await admin.sqsd("send", "emails", "plain text, not JSON");
      assert.equal(raw.code, 0, raw.stderr);
      const [email] = await admin.scenario.sqs.receive(await admin.urlOf("emails"));
      assert.equal(email?.Body, "plain text, not JSON");

      // "-" reads the body from stdin, as a shell pipeline gives it, through the same codec.
      const piped = await admin.sqsdWithInput('{"orderId":"B-2"}\n', "send", "orders", "-", "--json");
      assert.equal(piped.code, 0, piped.stderr);
      const [fromStdin] = await admin.scenario.sqs.receive(await admin.urlOf("orders"));
      assert.equal(fromStdin?.MessageId, piped.json()["messageId"]);
      assert.equal(fromStdin?.Body, '{"orderId":"B-2"}');
    });

    it("send refuses bad input with exit 2, whether it is not JSON or fails the queue's schema", async () => {
      const configPath = admin.scenario.writeConfig(["validated"], { createQueues: false }, "validated.json");
      const url = await admin.urlOf("validated");
      const send = (body: string) => admin.scenario.run(["--config", configPath, "send", "validated", body]);

      const notJson = await send("{not json");
      assert.equal(notJson.code, 2, notJson.stderr);
      assert.match(notJson.stderr, /^sqsd: queue "validated" uses the json codec, so the body must be JSON/m);

      const wrongShape = await send('{"orderId":"A-1","quantity":-3}');
      assert.equal(wrongShape.code, 2, wrongShape.stderr);
      assert.match(
        wrongShape.stderr,
        /^sqsd: send to validated does not match the schema: too_small at \$\.quantity$/m,
      );
      assert.ok(!wrongShape.stderr.includes("    at "), wrongShape.stderr);

      assert.equal(admin.scenario.sqs.requests("SendMessage"), 0);
      const good = await send('{"orderId":"A-1","quantity":3}');
      assert.equal(good.code, 0, good.stderr);
      assert.deepEqual(await admin.scenario.sqs.counts(url), { visible: 1, inFlight: 0, delayed: 0 });
    });

    it("peek shows messages decoded without consuming them", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      const url = await admin.urlOf("orders");
      await admin.scenario.sqs.sendMany(url, ['{"n":1}', '{"n":2}', "{broken"]);
      const result = await admin.sqsd("peek", "orders", "-n", "5", "--json");
      assert.equal(result.code, 0, result.stderr);
      const messages = result.json()["messages"] as { body: unknown; error?: string }[];
      assert.equal(messages.length, 3);
      assert.deepEqual(
        messages
          .filter((message) => !message.error)
          .map((message) => message.body)
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
        [{ n: 1 }, { n: 2 }],
      );
      assert.match(
        messages.find((message) => message.error)?.error ?? "",
        /MessageDecodeError: the body is not valid JSON/,
      );
      // Given back at once: all three are visible again.
      assert.deepEqual(await admin.scenario.sqs.counts(url), { visible: 3, inFlight: 0, delayed: 0 });
    });
  });
