import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SqsdProcess } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";
import { Scenario } from "../helpers/scenario.js";
import { sqsServers } from "../helpers/local-sqs.js";

/**
 * Message formats through the running daemon: Python peers' wire formats, poison messages and the dead-letter
 * queue, schemas, and batch handlers.
 */
for (const server of sqsServers())
  describe(`messages on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario;
    let daemon: SqsdProcess;
    const urls: Record<string, string> = {};
    let deadLetters: string;

    before(async () => {
      scenario = await Scenario.start({ server: server.name });
      const { sqs } = scenario;
      deadLetters = await sqs.createQueue("dead-letters");
      const { GetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
      const { Attributes } = await sqs.client.send(
        new GetQueueAttributesCommand({ QueueUrl: deadLetters, AttributeNames: ["QueueArn"] }),
      );
      // Two receives, then SQS moves the message to the dead-letter queue.
      const redrive = JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 2 });
      for (const name of ["users", "boto", "validated", "ok"]) {
        urls[name] = await sqs.createQueue(name, { RedrivePolicy: redrive, VisibilityTimeout: "1" });
      }
      const configPath = scenario.writeConfig(["model-instance", "boto", "validated", "ok"], {
        defaults: { visibilityTimeoutSeconds: 1 },
      });
      daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
    });
    after(() => scenario.dispose());

    const eventsFor = (id: string) => scenario.ws.events().filter((event) => event.id === id);
    const deadLetterIds = async (): Promise<Set<string>> => {
      const ids = new Set<string>();
      for (const message of await scenario.sqs.receive(deadLetters, { waitSeconds: 0, visibilitySeconds: 0 })) {
        ids.add(message.MessageId!);
      }
      return ids;
    };

    it("decodes a body exactly as boto's Message writes it", async () => {
      // base64.b64encode("hello, wörld".encode("utf-8"))
      const id = await scenario.sqs.send(urls["boto"]!, "aGVsbG8sIHfDtnJsZA==");
      const [event] = await eventually(() => eventsFor(id).length > 0 && eventsFor(id));
      assert.equal(event?.body, "hello, wörld");
    });

    it("loads the row a ModelInstanceMessage body names, with its reference", async () => {
      // base64.b64encode(json.dumps(("auth", "user", 42)))
      const id = await scenario.sqs.send(urls["users"]!, "WyJhdXRoIiwgInVzZXIiLCA0Ml0=");
      const [event] = await eventually(() => eventsFor(id).length > 0 && eventsFor(id));
      assert.deepEqual(event?.body, { id: 42, name: "ada" });
      assert.deepEqual(event?.["ref"], { app: "auth", model: "user", pk: 42 });
    });

    it("reports each model-instance failure as its own error, and redrive carries each to the DLQ", async () => {
      const { sqs } = scenario;
      const poison = {
        MessageDecodeError: await sqs.send(urls["users"]!, "this is not base64!"),
        UnknownModelError: await sqs.send(urls["users"]!, Buffer.from('["shop", "order", 1]').toString("base64")),
        ModelInstanceNotFoundError: await sqs.send(
          urls["users"]!,
          Buffer.from('["auth", "user", 7]').toString("base64"),
        ),
        // The resolver itself fails (a database outage): a failure like the others, not a crash.
        Error: await sqs.send(urls["users"]!, Buffer.from('["auth", "user", 500]').toString("base64")),
      };
      const ids = Object.values(poison);
      await eventually(async () => ids.every((id) => deadLetterIdsCache.has(id)) || (await refreshDeadLetters(ids)), {
        timeoutMs: 30_000,
        message: "the poison messages did not all reach the dead-letter queue",
      });
      for (const [errorName, id] of Object.entries(poison)) {
        const logs = daemon.logs.filter(
          (record) => record.messageId === id && record.message === "message could not be decoded",
        );
        assert.ok(logs.length >= 2, `${errorName}: logged on each of its two receives`);
        assert.ok(logs[0]?.error?.startsWith(`${errorName}: `), `${errorName}: got ${logs[0]?.error}`);
        assert.equal(logs[0]?.codec, "modelInstance");
        assert.equal(logs[0]?.queue, "users");
        assert.equal(logs[0]?.level, "error");
        assert.equal(eventsFor(id).length, 0, "the handler never saw it");
      }
      assert.equal(daemon.child.exitCode, null, "the daemon keeps running");
    });

    it("logs a malformed JSON body clearly, without the body, and redrive carries it to the DLQ", async () => {
      const secret = "card 4111-1111-1111-1111";
      const id = await scenario.sqs.send(urls["ok"]!, `{"note": "${secret}"`);
      await eventually(async () => deadLetterIdsCache.has(id) || (await refreshDeadLetters([id])), {
        timeoutMs: 30_000,
      });
      const log = daemon.logs.find(
        (record) => record.messageId === id && record.message === "message could not be decoded",
      );
      assert.equal(log?.codec, "json");
      assert.match(log?.error ?? "", /^MessageDecodeError: the body is not valid JSON/);
      assert.ok(!daemon.stdoutLines.some((line) => line.includes(secret)), "the body never reaches the log");
      assert.equal(daemon.child.exitCode, null);
    });

    it("treats a body that fails the schema as a decode failure", async () => {
      const good = await scenario.sqs.send(urls["validated"]!, JSON.stringify({ orderId: "A-1", quantity: 2 }));
      const bad = await scenario.sqs.send(urls["validated"]!, JSON.stringify({ orderId: "A-2", quantity: -1 }));
      await eventually(() => eventsFor(good).length === 1);
      const log = await daemon.waitForLog(
        (record) => record.messageId === bad && record.message === "message could not be decoded",
      );
      assert.match(
        log.error ?? "",
        /^SchemaValidationError: message .* does not match the schema: too_small at \$\.quantity$/,
      );
      assert.equal(eventsFor(bad).length, 0);
    });

    const deadLetterIdsCache = new Set<string>();
    async function refreshDeadLetters(wanted: readonly string[]): Promise<boolean> {
      for (const id of await deadLetterIds()) deadLetterIdsCache.add(id);
      return wanted.every((id) => deadLetterIdsCache.has(id));
    }
  });

for (const server of sqsServers())
  describe(`batch handlers on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario;
    after(() => scenario.dispose());

    it("redelivers exactly the messages the handler reported failed, and deletes the rest", async () => {
      scenario = await Scenario.start({ server: server.name });
      const { sqs, ws } = scenario;
      const url = await sqs.createQueue("batch", { VisibilityTimeout: "1" });
      const bodies = Array.from({ length: 10 }, (_, n) => JSON.stringify({ n, fail: n % 3 === 1 }));
      const ids = await sqs.sendMany(url, bodies);
      const failing = new Set([1, 4, 7].map((n) => ids[n]!));
      // A batch of ten holds ten in-flight slots.
      const configPath = scenario.writeConfig(["batch"], {
        defaults: { visibilityTimeoutSeconds: 1 },
        pool: { threads: 2, tasksPerThread: 5 },
      });
      // 10 first deliveries, then the 3 failed ones come back once more.
      const result = await scenario.run(["--config", configPath, "--message-limit", "13"]);

      assert.equal(result.code, 0, result.stderr);
      const events = ws.events();
      const first = events.filter((event) => event.receiveCount === 1);
      assert.equal(first.length, 10);
      assert.equal(first[0]?.["batchSize"], 10, "the ten messages came as one batch");
      const redelivered = events.filter((event) => event.receiveCount === 2);
      assert.deepEqual(new Set(redelivered.map((event) => event.id)), failing);
      // The three failed again and wait for their next delivery; the seven were deleted.
      await eventually(async () => (await sqs.counts(url)).visible + (await sqs.counts(url)).inFlight === 3);
    });
  });
