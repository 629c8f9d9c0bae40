import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { createSqsConnection } from "../../src/sqs/client.js";
import { Acker } from "../../src/supervisor/acker.js";
import { sqsServers, TEST_CREDENTIALS, TEST_REGION, TestSqs, TestSqsProcess } from "../helpers/local-sqs.js";
import { memoryLogger } from "../helpers/memory-logger.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { testTransport } from "../helpers/transport.js";

/**
 * A drain's final flush while SQS cannot be reached: bounded by its limit, whatever the receipt handles'
 * validity (600 s here), and losing nothing (the message stays in flight and comes back after its timeout).
 */
describe("Acker: a bounded flush during an outage", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** Resolves with the flush's outcome, or "still flushing" if it outlives `limitMs`. */
  async function raceFlush(flush: Promise<void>, limitMs: number): Promise<"flushed" | "still flushing"> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"still flushing">((resolve) => {
      timer = setTimeout(() => resolve("still flushing"), limitMs);
    });
    try {
      return await Promise.race([flush.then(() => "flushed" as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  for (const server of sqsServers()) {
    it(
      `gives up a delete whose connection is refused when the limit passes, and the message stays, on ${server.name}`,
      { skip: server.skip },
      async () => {
        const sqs = await TestSqs.start({ server: server.name });
        cleanup.push(() => sqs.stop());
        const proxy = await TcpProxy.start(sqs.endpoint);
        cleanup.push(() => proxy.stop());
        const url = await sqs.createQueue("outage-refused", { VisibilityTimeout: "600" });
        await sqs.send(url, "keep me");
        const [message] = await sqs.receive(url, { visibilitySeconds: 600 });
        const { logger, records } = memoryLogger();
        const connection = createSqsConnection(
          { ...sqs.settings, endpoint: proxy.endpoint },
          { transport: testTransport() },
        );
        const { hot } = connection;
        cleanup.push(async () => connection.destroy());
        const acker = new Acker(hot, logger);

        proxy.cut();
        const deleted = acker.delete({
          queueUrl: url,
          messageId: message!.MessageId!,
          receiptHandle: message!.ReceiptHandle!,
          validUntil: Date.now() + 600_000,
        });
        // The limit is 1 s; the receipt is valid for 600 s, which is how long the flush retried before the bound.
        assert.equal(await raceFlush(acker.flush(1_000), 60_000), "flushed");
        assert.equal(await deleted, false);
        assert.ok(
          records.some(
            (record) => /may be redelivered/.test(record.message) && record.messageId === message!.MessageId,
          ),
        );
        assert.deepEqual(await sqs.counts(url), { visible: 0, inFlight: 1, delayed: 0 }, "not deleted, not lost");
      },
    );
  }

  // fauxqs only: the frozen server is a fauxqs process stopped with SIGSTOP.
  it("cuts a request under way to a server that stopped answering when the limit passes", async () => {
    const server = await TestSqsProcess.start();
    cleanup.push(() => server.stop());
    const setup = server.client();
    cleanup.push(async () => setup.destroy());
    const { QueueUrl: url } = await setup.send(
      new CreateQueueCommand({ QueueName: "outage-frozen", Attributes: { VisibilityTimeout: "600" } }),
    );
    await setup.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "keep me" }));
    const { Messages } = await setup.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 600 }));
    const message = Messages![0]!;
    const { logger } = memoryLogger();
    // A request timeout far longer than the limit: only the flush's own bound can end the request.
    const connection = createSqsConnection(
      {
        region: TEST_REGION,
        endpoint: server.endpoint,
        credentials: TEST_CREDENTIALS,
        queuePrefix: undefined,
        createQueues: false,
      },
      { requestTimeoutMs: 120_000, maxAttempts: 1, transport: testTransport() },
    );
    cleanup.push(async () => connection.destroy());
    const acker = new Acker(connection.hot, logger);

    server.child.kill("SIGSTOP");
    const deleted = acker.delete({
      queueUrl: url!,
      messageId: message.MessageId!,
      receiptHandle: message.ReceiptHandle!,
      validUntil: Date.now() + 600_000,
    });
    assert.equal(await raceFlush(acker.flush(1_000), 60_000), "flushed");
    assert.equal(await deleted, false);
    server.child.kill("SIGCONT");
  });
});
