import assert from "node:assert/strict";
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { Scenario } from "../helpers/scenario.js";

/** The queue-admin commands, spawned as an operator runs them, against a real SQS server. */
describe("queue-admin commands", () => {
  let scenario: Scenario;
  let configPath: string;
  beforeEach(async () => {
    scenario = await Scenario.start();
    configPath = scenario.writeConfig(["orders", "emails"], { createQueues: false });
  });
  afterEach(() => scenario.dispose());

  const sqsd = async (...args: string[]) => {
    const result = await scenario.run(["--config", configPath, ...args]);
    return { ...result, json: () => JSON.parse(result.stdout) as Record<string, unknown> };
  };
  const urlOf = (name: string) => scenario.sqs.createQueue(name);
  const attributes = async (name: string) =>
    (
      await scenario.sqs.client.send(
        new GetQueueAttributesCommand({ QueueUrl: await urlOf(name), AttributeNames: ["All"] }),
      )
    ).Attributes ?? {};

  it("init creates the queues and dead-letter queues with redrive policies; a second run changes nothing", async () => {
    const dryRun = await sqsd("init", "--dry-run", "--json");
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.deepEqual(
      (dryRun.json()["steps"] as { action: string; queue: string }[]).map((step) => [step.action, step.queue]),
      [
        ["create", "orders__dlq"],
        ["create", "orders__eu__dlq"],
        ["create", "orders"],
        ["create", "orders__eu"],
        ["create", "emails"],
      ],
    );
    const missing = await scenario.run(["--config", configPath, "status", "--json"]);
    assert.ok(
      (JSON.parse(missing.stdout) as { queues: { exists: boolean }[] }).queues.every((queue) => !queue.exists),
      "a dry run creates nothing",
    );

    const first = await sqsd("init");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^ACTION\s+QUEUE\s+DETAILS$/m);
    assert.match(
      first.stdout,
      /^create\s+orders\s+VisibilityTimeout=30; RedrivePolicy → orders__dlq after 2 receives$/m,
    );
    const orders = await attributes("orders");
    assert.equal(orders["VisibilityTimeout"], "30");
    const redrive = JSON.parse(orders["RedrivePolicy"] ?? "{}") as {
      deadLetterTargetArn: string;
      maxReceiveCount: number;
    };
    assert.equal(redrive.deadLetterTargetArn, (await attributes("orders__dlq"))["QueueArn"]);
    assert.equal(Number(redrive.maxReceiveCount), 2);
    assert.equal((await attributes("orders__dlq"))["MessageRetentionPeriod"], "1209600");
    assert.equal((await attributes("emails"))["RedrivePolicy"], undefined);

    const second = await sqsd("init", "--json");
    assert.equal(second.code, 0, second.stderr);
    assert.ok((second.json()["steps"] as { action: string }[]).every((step) => step.action === "ok"));
  });

  it("init reports a changed visibility timeout and sets it back", async () => {
    assert.equal((await sqsd("init")).code, 0);
    await scenario.sqs.client.send(
      new SetQueueAttributesCommand({ QueueUrl: await urlOf("orders__eu"), Attributes: { VisibilityTimeout: "45" } }),
    );
    const result = await sqsd("init");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^update\s+orders__eu\s+VisibilityTimeout 45 → 30$/m);
    assert.equal((await attributes("orders__eu"))["VisibilityTimeout"], "30");
  });

  it("status shows exact counts for every queue and suffix, in flight, delayed, and dead letters", async () => {
    assert.equal((await sqsd("init")).code, 0);
    const { sqs } = scenario;
    await sqs.sendMany(await urlOf("orders__eu"), ["1", "2", "3"]);
    await sqs.sendMany(await urlOf("orders"), ["4", "5"]);
    await sqs.receive(await urlOf("orders"), { max: 1, visibilitySeconds: 300 });
    await sqs.send(await urlOf("emails"), "later", { DelaySeconds: 600 });
    await sqs.sendMany(await urlOf("orders__dlq"), ["dead 1", "dead 2"]);

    const result = await sqsd("status", "--json");
    assert.equal(result.code, 0, result.stderr);
    const rows = (result.json()["queues"] as Record<string, unknown>[]).map((queue) => ({
      name: queue["name"],
      visible: queue["visible"],
      inFlight: queue["inFlight"],
      delayed: queue["delayed"],
      deadLetters: (queue["deadLetter"] as { visible: number } | undefined)?.visible,
    }));
    assert.deepEqual(rows, [
      { name: "orders", visible: 1, inFlight: 1, delayed: 0, deadLetters: 2 },
      { name: "orders__eu", visible: 3, inFlight: 0, delayed: 0, deadLetters: 0 },
      { name: "emails", visible: 0, inFlight: 0, delayed: 1, deadLetters: undefined },
    ]);

    const text = await sqsd("status");
    assert.match(text.stdout, /^Active SQS queues \(http:\/\/127\.0\.0\.1:\d+\), \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    assert.deepEqual(text.stdout.split("\n").slice(2), [
      "QUEUE       VISIBLE  IN FLIGHT  DELAYED  DEAD-LETTER QUEUE  DEAD LETTERS",
      "orders            1          1        0  orders__dlq                   2",
      "orders__eu        3          0        0  orders__eu__dlq               0",
      "emails            0          0        1  -                             -",
    ]);
  });

  it("clear deletes what is visible, reports the count, and leaves in-flight messages alone", async () => {
    assert.equal((await sqsd("init")).code, 0);
    const url = await urlOf("emails");
    await scenario.sqs.sendMany(url, ["a", "b", "c", "d", "e", "f"]);
    await scenario.sqs.receive(url, { max: 1, visibilitySeconds: 300 });
    const result = await sqsd("clear", "emails", "--yes");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout.trim(),
      "emails: 5 deleted; left alone: 1 in flight (run clear again once they are visible)",
    );
    assert.deepEqual(await scenario.sqs.counts(url), { visible: 0, inFlight: 1, delayed: 0 });
  });

  it("clear --purge empties a queue with PurgeQueue", async () => {
    assert.equal((await sqsd("init")).code, 0);
    const url = await urlOf("emails");
    await scenario.sqs.sendMany(url, ["a", "b"]);
    const result = await sqsd("clear", "emails", "--purge", "--yes", "--json");
    assert.equal(result.code, 0, result.stderr);
    assert.equal((result.json()["queues"] as { purged: boolean }[])[0]?.purged, true);
    assert.equal(scenario.sqs.requests("PurgeQueue"), 1);
    assert.deepEqual(await scenario.sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 });
  });

  it("wait exits 0 once a consumer has emptied the queue, and 1 on timeout when nothing does", async () => {
    assert.equal((await sqsd("init")).code, 0);
    await scenario.sqs.sendMany(await urlOf("emails"), ["a", "b", "c"]);
    await scenario.sqs.send(await urlOf("orders"), "7");

    const timedOut = await sqsd("wait", "emails", "--timeout-seconds", "2", "--interval-seconds", "1");
    assert.equal(timedOut.code, 1, timedOut.stderr);
    assert.match(timedOut.stdout, /timed out after 2 s; not empty: emails \(3 visible, 0 in flight, 0 delayed\)/);

    const waiting = sqsd("wait", "emails", "--interval-seconds", "1", "--cycles", "2", "--timeout-seconds", "60");
    const consumer = scenario.spawn(["--config", configPath, "emails"]);
    await consumer.started();
    const result = await waiting;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /all 1 queue\(s\) empty for 2 check\(s\) in a row/);
    assert.equal(scenario.ws.events().length, 3);
  });

  it("send encodes through the queue's codec, with suffix, attributes and a body from stdin", async () => {
    assert.equal((await sqsd("init")).code, 0);
    const json = await sqsd("send", "orders", '{"orderId":"A-1"}', "--suffix", "eu", "--attr", "source=cli", "--json");
    assert.equal(json.code, 0, json.stderr);
    const [message] = await scenario.sqs.receive(await urlOf("orders__eu"));
    assert.equal(message?.MessageId, json.json()["messageId"]);
    assert.equal(message?.Body, '{"orderId":"A-1"}');
    assert.deepEqual(message?.MessageAttributes, { source: { DataType: "String", StringValue: "cli" } });

    const bad = await sqsd("send", "orders", "{not json");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /queue "orders" uses the json codec, so the body must be JSON/);

    const raw = await sqsd("send", "emails", "plain text, not JSON");
    assert.equal(raw.code, 0, raw.stderr);
    const [email] = await scenario.sqs.receive(await urlOf("emails"));
    assert.equal(email?.Body, "plain text, not JSON");
  });

  it("peek shows messages decoded without consuming them", async () => {
    assert.equal((await sqsd("init")).code, 0);
    const url = await urlOf("orders");
    await scenario.sqs.sendMany(url, ['{"n":1}', '{"n":2}', "{broken"]);
    const result = await sqsd("peek", "orders", "-n", "5", "--json");
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
    assert.deepEqual(await scenario.sqs.counts(url), { visible: 3, inFlight: 0, delayed: 0 });
  });

  it("redrive moves 50 dead letters back, losing none", async () => {
    assert.equal((await sqsd("init")).code, 0);
    const bodies = Array.from({ length: 50 }, (_, n) => `message ${n}`);
    await scenario.sqs.sendMany(await urlOf("orders__dlq"), bodies);
    const result = await sqsd("redrive", "orders", "--json");
    assert.equal(result.code, 0, result.stderr);
    // fauxqs has no StartMessageMoveTask, so this is the copy path: send to the source, then delete.
    assert.deepEqual(result.json(), {
      source: "orders",
      deadLetterQueue: "orders__dlq",
      method: "copy",
      moved: 50,
      failed: 0,
    });
    assert.deepEqual(await drain(await urlOf("orders")), new Set(bodies));
    assert.deepEqual(await scenario.sqs.counts(await urlOf("orders__dlq")), { visible: 0, inFlight: 0, delayed: 0 });
  });

  it("redrive killed halfway loses no message", async () => {
    assert.equal((await sqsd("init")).code, 0);
    const bodies = Array.from({ length: 50 }, (_, n) => `message ${n}`);
    await scenario.sqs.sendMany(await urlOf("orders__dlq"), bodies);
    const redrive = scenario.spawn(["--config", configPath, "redrive", "orders", "--max-per-second", "20"]);
    await eventually(async () => (await scenario.sqs.counts(await urlOf("orders"))).visible >= 10);
    redrive.kill("SIGKILL");
    await redrive.exited;
    const moved = await drain(await urlOf("orders"));
    assert.ok(moved.size > 0 && moved.size < 50, `killed halfway: ${moved.size} moved`);
    // What was received from the dead-letter queue but not yet deleted comes back after its visibility timeout.
    const left = await eventually(
      async () => {
        const counts = await scenario.sqs.counts(await urlOf("orders__dlq"));
        return counts.inFlight === 0 && drain(await urlOf("orders__dlq"));
      },
      { timeoutMs: 40_000 },
    );
    assert.deepEqual(new Set([...moved, ...left]), new Set(bodies), "every message is in one queue or the other");
  });

  /** Receives and deletes everything visible in a queue; returns the bodies. */
  async function drain(url: string): Promise<Set<string>> {
    const bodies = new Set<string>();
    for (;;) {
      const messages = await scenario.sqs.receive(url, { max: 10, waitSeconds: 0, visibilitySeconds: 300 });
      if (messages.length === 0) return bodies;
      for (const message of messages) bodies.add(message.Body!);
    }
  }
});
