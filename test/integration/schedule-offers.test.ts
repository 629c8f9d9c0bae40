import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import { ScheduleRunner } from "../../src/schedules/runner.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqs, sqsServers } from "../helpers/local-sqs.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/** Offering ticks to the schedules queue: errors classified as the acker classifies them. */
for (const server of sqsServers())
  describe(`ScheduleRunner offers on ${server.name}`, { skip: server.skip }, () => {
    let sqs: TestSqs;
    before(async () => {
      sqs = await TestSqs.start({ server: server.name });
    });
    after(async () => {
      await sqs.stop();
    });

    it("does not retry an offer to a schedules queue that does not exist: a retry cannot help", async () => {
      getRegistry().clear();
      const target = receiver("offer-target", async () => {}).queue;
      const client = createSqsClient(sqs.settings);
      const { logger, records } = memoryLogger();
      const missingQueueUrl = `${sqs.endpoint}/000000000000/no-such-schedules-queue.fifo`;
      const runner = new ScheduleRunner({
        schedules: [
          {
            name: "every-second",
            cron: "* * * * * *",
            queue: "offer-target",
            body: undefined,
            suffix: undefined,
            timezone: "UTC",
            catchUp: "none",
          },
        ],
        queues: new Map([["every-second", target]]),
        client,
        receiveClient: client,
        queueUrl: missingQueueUrl,
        waitTimeSeconds: 1,
        errorBackoff: { initialMs: 100, maxMs: 1_000 },
        drainPolls: "abort",
        logger,
      });
      try {
        void runner.start();
        const refused = (): number =>
          records.filter((record) => /could not offer a schedule tick, and a retry cannot help/.test(record.message))
            .length;
        // Three ticks, each refused once.
        await eventually(() => refused() >= 3, { timeoutMs: 20_000 });
        assert.equal(
          records.filter((record) => /offering a schedule tick failed; retrying/.test(record.message)).length,
          0,
          "no offer was retried",
        );
        const first = records.find((record) => /retry cannot help/.test(record.message)) as { failure?: unknown };
        assert.equal(first.failure, "client");
      } finally {
        await runner.stop();
        client.destroy();
      }
    });
  });
