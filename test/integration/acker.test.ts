import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createSqsConnection } from "../../src/sqs/client.js";
import { testTransport } from "../helpers/transport.js";
import { Acker } from "../../src/supervisor/acker.js";
import { TestSqs, sqsServers } from "../helpers/local-sqs.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/** Deletes and visibility changes against a real SQS server. */
for (const server of sqsServers())
  describe(`Acker on ${server.name}`, { skip: server.skip }, () => {
    let sqs: TestSqs;
    before(async () => {
      sqs = await TestSqs.start({ server: server.name });
    });
    after(async () => {
      await sqs.stop();
    });

    const newAcker = () => {
      const { logger, records } = memoryLogger();
      const { hot } = createSqsConnection(sqs.settings, { transport: testTransport() });
      return { acker: new Acker(hot, logger), records };
    };

    it("deletes 25 messages in 3 batch requests", async () => {
      const url = await sqs.createQueue("deletes");
      await sqs.sendMany(
        url,
        Array.from({ length: 25 }, (_, index) => String(index)),
      );
      const messages = [...(await sqs.receive(url)), ...(await sqs.receive(url)), ...(await sqs.receive(url))];
      assert.equal(messages.length, 25);
      const { acker } = newAcker();
      const before = sqs.requests("DeleteMessageBatch");
      const results = await Promise.all(
        messages.map((message) =>
          acker.delete({ queueUrl: url, messageId: message.MessageId!, receiptHandle: message.ReceiptHandle! }),
        ),
      );
      assert.ok(results.every((deleted) => deleted));
      assert.equal(sqs.requests("DeleteMessageBatch") - before, 3);
      assert.deepEqual(await sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 });
    });

    it("gives up at once on a client error, and says the message may be redelivered", async () => {
      const url = await sqs.createQueue("vanishing");
      await sqs.send(url, "orphan");
      const [message] = await sqs.receive(url);
      const { DeleteQueueCommand } = await import("@aws-sdk/client-sqs");
      await sqs.client.send(new DeleteQueueCommand({ QueueUrl: url }));
      const { acker, records } = newAcker();
      const before = sqs.requests("DeleteMessageBatch");
      const deleted = await acker.delete({
        queueUrl: url,
        messageId: message!.MessageId!,
        receiptHandle: message!.ReceiptHandle!,
      });
      assert.equal(deleted, false);
      // A missing queue is not a fault a retry can fix: one request, no retries.
      assert.equal(sqs.requests("DeleteMessageBatch") - before, 1);
      const warning = records.find((record) => record.messageId === message!.MessageId);
      assert.equal(warning?.level, "warn");
      assert.match(warning?.message ?? "", /DeleteMessageBatch failed; the message may be redelivered/);
      assert.match(warning?.reason ?? "", /QueueDoesNotExist|NonExistentQueue/);
    });

    it("makes a message visible again at once with a visibility change to 0", async () => {
      const url = await sqs.createQueue("release");
      await sqs.send(url, "again");
      const [message] = await sqs.receive(url, { visibilitySeconds: 300 });
      const { acker } = newAcker();
      assert.equal(
        await acker.changeVisibility(
          { queueUrl: url, messageId: message!.MessageId!, receiptHandle: message!.ReceiptHandle! },
          0,
        ),
        true,
      );
      assert.deepEqual(await sqs.counts(url), { visible: 1, inFlight: 0, delayed: 0 });
    });
  });
