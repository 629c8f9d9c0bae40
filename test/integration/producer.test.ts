import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { z } from "zod";
import {
  configureFromFile,
  configureSqs,
  MessageTooLargeError,
  receiver,
  register,
  SchemaValidationError,
  send,
  sendBatch,
} from "../../src/index.js";
import { sqsServers, TestSqs } from "../helpers/local-sqs.js";
import { Workspace } from "../helpers/workspace.js";

/** Sending like a producer library, against a real SQS server that counts the requests it gets. */
for (const server of sqsServers())
  describe(`the producer on ${server.name}`, { skip: server.skip }, () => {
    let sqs: TestSqs;
    before(async () => {
      sqs = await TestSqs.start({ server: server.name });
    });
    after(async () => {
      await sqs.stop();
    });
    beforeEach(() => sqs.useForSending());

    it("batches 100 concurrent sends into at most 10 requests, and each caller gets its own id", async () => {
      const url = await sqs.createQueue("concurrent");
      const jobs = receiver<{ n: number }>("concurrent", async () => {});
      await jobs({ n: -1 }); // resolves and caches the queue URL and size limit
      await sqs.receive(url, { max: 1 });
      const sendRequests = (): number => sqs.requests("SendMessageBatch") + sqs.requests("SendMessage");
      const before = sendRequests();

      const ids = await Promise.all(Array.from({ length: 100 }, (_, n) => jobs({ n })));

      assert.ok(sendRequests() - before <= 10, `${sendRequests() - before} send requests for 100 messages`);
      assert.equal(new Set(ids).size, 100, "100 distinct message ids");
      const received = new Map<string, string>();
      for (let round = 0; round < 20 && received.size < 100; round += 1) {
        for (const message of await sqs.receive(url, { max: 10, waitSeconds: 0 }))
          received.set(message.MessageId!, message.Body!);
      }
      // Each caller's id is the id of the message it sent.
      ids.forEach((id, n) => assert.equal(received.get(id), JSON.stringify({ n })));
    });

    it("checks the schema before any request, on send", async () => {
      const orders = receiver(
        "orders",
        { schema: z.object({ orderId: z.string(), quantity: z.number().int().positive() }) },
        async () => {},
      );
      const before = sqs.totalRequests();
      await assert.rejects(orders({ orderId: "A-1", quantity: 0 }), (error: unknown) => {
        assert.ok(error instanceof SchemaValidationError);
        assert.match(error.message, /send to orders does not match the schema: too_small at \$\.quantity$/);
        return true;
      });
      assert.equal(sqs.totalRequests(), before, "no request was made");
      assert.ok(await orders({ orderId: "A-1", quantity: 3 }));
    });

    it("refuses a body over SQS's 1 MiB ceiling before any request, naming size and limit", async () => {
      register("huge", undefined, { codec: "raw" });
      const before = sqs.totalRequests();
      await assert.rejects(send("huge", "x".repeat(1_048_577)), (error: unknown) => {
        assert.ok(error instanceof MessageTooLargeError);
        assert.equal(error.bytes, 1_048_577);
        assert.equal(error.maxBytes, 1_048_576);
        assert.match(
          error.message,
          /a 1048577-byte message is larger than queue "huge" accepts \(MaximumMessageSize 1048576 bytes/,
        );
        return true;
      });
      assert.equal(sqs.totalRequests(), before);
    });

    it("refuses a body over the queue's own MaximumMessageSize, fetched once, before sending it", async () => {
      await sqs.createQueue("small", { MaximumMessageSize: "1024" });
      register("small", undefined, { codec: "raw" });
      await send("small", "fits");
      const lookups = sqs.requests("GetQueueAttributes");
      const sends = sqs.requests("SendMessageBatch");
      await assert.rejects(
        send("small", "x".repeat(1_000), { messageAttributes: { origin: "a".repeat(30) } }),
        (error: unknown) => {
          assert.ok(error instanceof MessageTooLargeError);
          assert.equal(error.maxBytes, 1024);
          assert.equal(error.bytes, 1_000 + "origin".length + "String".length + 30);
          return true;
        },
      );
      assert.equal(sqs.requests("SendMessageBatch"), sends, "nothing was sent");
      assert.equal(sqs.requests("GetQueueAttributes"), lookups, "the limit came from the cache");
    });

    it("reports per-entry failures from sendBatch and sends the rest", async () => {
      const url = await sqs.createQueue("bulk");
      receiver("bulk", { schema: z.object({ n: z.number() }) }, async () => {});
      const result = await sendBatch("bulk", [{ n: 1 }, { n: "two" }, { n: 3 }, { n: 4 }]);
      assert.deepEqual(
        result.successful.map((entry) => entry.index),
        [0, 2, 3],
      );
      assert.deepEqual(
        result.failed.map((entry) => [entry.index, entry.error.name]),
        [[1, "SchemaValidationError"]],
      );
      const bodies = (await sqs.receive(url, { max: 10 })).map((message) => message.Body).sort();
      assert.deepEqual(bodies, ['{"n":1}', '{"n":3}', '{"n":4}']);
    });

    it("keeps FIFO order and lets content-based deduplication drop a repeat", async () => {
      const url = await sqs.createQueue("steps.fifo", { FifoQueue: "true", ContentBasedDeduplication: "true" });
      const steps = receiver<{ step: number }>("steps.fifo", async () => {});
      await Promise.all([1, 2, 3, 4, 5].map((step) => steps({ step }, { groupId: "job-1" })));
      await steps({ step: 5 }, { groupId: "job-1" });
      const bodies: string[] = [];
      for (let round = 0; round < 10 && bodies.length < 5; round += 1) {
        const messages = await sqs.receive(url, { max: 10, waitSeconds: 0 });
        for (const message of messages) bodies.push(message.Body!);
        const { DeleteMessageBatchCommand } = await import("@aws-sdk/client-sqs");
        if (messages.length > 0) {
          await sqs.client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: url,
              Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
            }),
          );
        }
      }
      assert.deepEqual(
        bodies,
        [1, 2, 3, 4, 5].map((step) => JSON.stringify({ step })),
      );
      assert.deepEqual(await sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 }, "the repeat was deduplicated");
    });

    // Once per process: a receivers module registers its queues when first imported, so a second run would find
    // none. It reads a config file, which no SQS server changes.
    it(
      "takes its settings and queues from sqs.config.ts with configureFromFile",
      { skip: server.name === "moto" && "reads a config file (no SQS behaviour), once per process: it runs on fauxqs" },
      async () => {
        const ws = new Workspace();
        // Credentials come from the SDK's default chain, as they would in a web app.
        const savedEnv = { ...process.env };
        Object.assign(process.env, sqs.env);
        try {
          configureSqs({ endpoint: "http://127.0.0.1:9", queuePrefix: "wrong" });
          const configPath = ws.writeConfig({
            endpoint: sqs.endpoint,
            queuePrefix: "fromfile",
            createQueues: true,
            receivers: [new URL("../../../test/fixtures/receivers/ok.ts", import.meta.url).pathname],
          });
          await configureFromFile({ configPath });
          const id = await send("ok", { hello: "from a web app" });
          const [message] = await sqs.receive(await sqs.createQueue("fromfile__ok"));
          assert.equal(message?.MessageId, id);
        } finally {
          process.env = savedEnv;
          ws.remove();
        }
      },
    );
  });
