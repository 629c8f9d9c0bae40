import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { configureSqs, receiver, register, send, SqsRequestError, ValidationError } from "../../src/index.js";
import { sqsServers, TestSqs } from "../helpers/local-sqs.js";

/** Producing from any process: proxies, send() and register(), against a real SQS server. */
for (const server of sqsServers())
  describe(`sending on ${server.name}`, { skip: server.skip }, () => {
    let sqs: TestSqs;

    before(async () => {
      sqs = await TestSqs.start({ server: server.name });
    });
    after(async () => {
      await sqs.stop();
    });
    beforeEach(() => sqs.useForSending("test"));

    it("sends through the receiver proxy, as django-sqs's decorated function did", async () => {
      const resize = receiver<{ imageId: number }>("thumbnails", async () => {});
      const id = await resize({ imageId: 7 }, { messageAttributes: { source: "upload", attempt: 1 } });
      const viaSend = await resize.send({ imageId: 8 });
      const url = await sqs.createQueue("test__thumbnails");
      const messages = await sqs.receive(url);
      assert.deepEqual(
        messages.map((message) => [message.MessageId, message.Body]).sort(),
        [
          [id, '{"imageId":7}'],
          [viaSend, '{"imageId":8}'],
        ].sort(),
      );
      const first = messages.find((message) => message.MessageId === id);
      assert.deepEqual(first?.MessageAttributes, {
        source: { DataType: "String", StringValue: "upload" },
        attempt: { DataType: "Number", StringValue: "1" },
      });
    });

    it("sends with send() by registered name, to a suffix, with a delay", async () => {
      receiver("reports", { suffixes: ["big"], codec: "raw" }, async () => {});
      const id = await send("reports", "quarterly", { suffix: "big", delaySeconds: 2 });
      const url = await sqs.createQueue("test__reports__big");
      assert.deepEqual(await sqs.counts(url), { visible: 0, inFlight: 0, delayed: 1 });
      const [message] = await sqs.receive(url, { waitSeconds: 5 });
      assert.equal(message?.MessageId, id);
      assert.equal(message?.Body, "quarterly");
    });

    it("sends to a send-only queue made with register()", async () => {
      register("outbox");
      await send("outbox", { to: "ada@example.com" });
      const [message] = await sqs.receive(await sqs.createQueue("test__outbox"));
      assert.equal(message?.Body, '{"to":"ada@example.com"}');
    });

    it("sets the group and deduplication ids on FIFO queues", async () => {
      await sqs.createQueue("test__orders.fifo", { FifoQueue: "true" });
      const orders = receiver("orders.fifo", async () => {});
      await orders({ n: 1 }, { groupId: "customer-1", deduplicationId: "order-1" });
      await orders({ n: 1 }, { groupId: "customer-1", deduplicationId: "order-1" });
      const url = await sqs.createQueue("test__orders.fifo", { FifoQueue: "true" });
      // Counted, not received: a FIFO receive returns one message per group, duplicate or not.
      assert.deepEqual(await sqs.counts(url), { visible: 1, inFlight: 0, delayed: 0 }, "the duplicate was dropped");
      const messages = await sqs.receive(url);
      assert.equal(messages[0]?.Attributes?.MessageGroupId, "customer-1");
      assert.equal(messages[0]?.Attributes?.MessageDeduplicationId, "order-1");
    });

    it("refuses an unknown queue, a bad delay and an unencodable body before any request", async () => {
      const before = sqs.totalRequests();
      await assert.rejects(send("nope", {}), /unknown queue "nope"/);
      receiver("checked", async () => {});
      await assert.rejects(send("checked", {}, { delaySeconds: 901 }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.match(error.message, /send to test__checked: delaySeconds must be an integer 0\.\.900, got 901/);
        return true;
      });
      await assert.rejects(send("checked", undefined), /json codec cannot encode a value of type undefined/);
      assert.equal(sqs.totalRequests(), before, "no request of any kind was made");
    });

    it("names the queue when the queue does not exist and creation is off", async () => {
      configureSqs({ createQueues: false });
      receiver("missing", async () => {});
      await assert.rejects(send("missing", {}), /queue "test__missing" does not exist/);
    });

    it("converts SQS failures into errors that name the action and queue", async () => {
      receiver("vanishing", async () => {});
      const url = await sqs.createQueue("test__vanishing");
      await send("vanishing", { first: true });
      const { DeleteQueueCommand } = await import("@aws-sdk/client-sqs");
      await sqs.client.send(new DeleteQueueCommand({ QueueUrl: url }));
      await assert.rejects(send("vanishing", { second: true }), (error: unknown) => {
        assert.ok(error instanceof SqsRequestError);
        assert.equal(error.action, "SendMessageBatch");
        assert.match(String(error.queueUrl), /test__vanishing$/);
        assert.match(String(error.awsCode), /QueueDoesNotExist|NonExistentQueue/);
        return true;
      });
    });
  });
