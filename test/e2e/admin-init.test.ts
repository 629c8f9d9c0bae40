import assert from "node:assert/strict";
import { SetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, it } from "node:test";
import { AdminScenario } from "../helpers/admin.js";
import { sqsServers } from "../helpers/local-sqs.js";

/** The queue-admin commands that shape and show the queues, spawned as an operator runs them. */
for (const server of sqsServers())
  describe(`sqsd init and sqsd status on ${server.name}`, { skip: server.skip }, () => {
    let admin: AdminScenario;
    beforeEach(async () => {
      admin = await AdminScenario.start({ server: server.name });
    });
    afterEach(() => admin.dispose());

    it("init creates the queues and dead-letter queues with redrive policies; a second run changes nothing", async () => {
      const dryRun = await admin.sqsd("init", "--dry-run", "--json");
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
      const missing = await admin.scenario.run(["--config", admin.configPath, "status", "--json"]);
      const queues = (JSON.parse(missing.stdout) as { queues: { exists: boolean }[] }).queues;
      assert.equal(queues.length, 3, "orders, orders__eu and emails");
      assert.ok(
        queues.every((queue) => !queue.exists),
        "a dry run creates nothing",
      );

      const first = await admin.sqsd("init");
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^ACTION\s+QUEUE\s+DETAILS$/m);
      assert.match(
        first.stdout,
        /^create\s+orders\s+VisibilityTimeout=30; RedrivePolicy → orders__dlq after 2 receives$/m,
      );
      const orders = await admin.attributes("orders");
      assert.equal(orders["VisibilityTimeout"], "30");
      const redrive = JSON.parse(orders["RedrivePolicy"] ?? "{}") as {
        deadLetterTargetArn: string;
        maxReceiveCount: number;
      };
      assert.equal(redrive.deadLetterTargetArn, (await admin.attributes("orders__dlq"))["QueueArn"]);
      assert.equal(Number(redrive.maxReceiveCount), 2);
      assert.equal((await admin.attributes("orders__dlq"))["MessageRetentionPeriod"], "1209600");
      assert.equal((await admin.attributes("emails"))["RedrivePolicy"], undefined);

      const second = await admin.sqsd("init", "--json");
      assert.equal(second.code, 0, second.stderr);
      const steps = second.json()["steps"] as { action: string }[];
      assert.equal(steps.length, 5, "the five queues of the first run");
      assert.ok(steps.every((step) => step.action === "ok"));
    });

    it("init reports a changed visibility timeout and sets it back", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      await admin.scenario.sqs.client.send(
        new SetQueueAttributesCommand({
          QueueUrl: await admin.urlOf("orders__eu"),
          Attributes: { VisibilityTimeout: "45" },
        }),
      );
      const result = await admin.sqsd("init");
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^update\s+orders__eu\s+VisibilityTimeout 45 → 30$/m);
      assert.equal((await admin.attributes("orders__eu"))["VisibilityTimeout"], "30");
    });

    it("status shows exact counts for every queue and suffix, in flight, delayed, and dead letters", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      const { sqs } = admin.scenario;
      await sqs.sendMany(await admin.urlOf("orders__eu"), ["1", "2", "3"]);
      await sqs.sendMany(await admin.urlOf("orders"), ["4", "5"]);
      await sqs.receive(await admin.urlOf("orders"), { max: 1, visibilitySeconds: 300 });
      await sqs.send(await admin.urlOf("emails"), "later", { DelaySeconds: 600 });
      await sqs.sendMany(await admin.urlOf("orders__dlq"), ["dead 1", "dead 2"]);

      const result = await admin.sqsd("status", "--json");
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

      const text = await admin.sqsd("status");
      assert.match(
        text.stdout,
        /^Active SQS queues \(http:\/\/127\.0\.0\.1:\d+\), \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m,
      );
      assert.deepEqual(text.stdout.split("\n").slice(2), [
        "QUEUE       VISIBLE  IN FLIGHT  DELAYED  DEAD-LETTER QUEUE  DEAD LETTERS",
        "orders            1          1        0  orders__dlq                   2",
        "orders__eu        3          0        0  orders__eu__dlq               0",
        "emails            0          0        1  -                             -",
      ]);
    });
  });
