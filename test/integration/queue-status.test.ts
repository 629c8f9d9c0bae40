import assert from "node:assert/strict";
import { DeleteQueueCommand, GetQueueAttributesCommand, ListQueuesCommand } from "@aws-sdk/client-sqs";
import { after, before, describe, it } from "node:test";
import { readQueueStatus } from "../../src/admin/queue-status.js";
import { QueueNotFoundError } from "../../src/errors.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { QueueUrls } from "../../src/sqs/queue-urls.js";
import { TestSqs, sqsServers } from "../helpers/local-sqs.js";

/**
 * Reading queue status against a real SQS server with `createQueues` on (the daemon's setting with the
 * embedded server): looking at queues, as /status and /metrics do, must never create one.
 */
for (const server of sqsServers())
  describe(`reading queue status on ${server.name}`, { skip: server.skip }, () => {
    let sqs: TestSqs;
    before(async () => {
      sqs = await TestSqs.start({ server: server.name });
    });
    after(async () => {
      await sqs.stop();
    });

    const queueNames = async (): Promise<string[]> => {
      const { QueueUrls: found = [] } = await sqs.client.send(new ListQueuesCommand({}));
      return found.map((url) => url.slice(url.lastIndexOf("/") + 1)).sort();
    };

    it("reports a missing queue and a missing dead-letter queue without creating either", async () => {
      const client = createSqsClient(sqs.settings);
      const urls = new QueueUrls(client, { createQueues: true, endpointLabel: sqs.endpoint });
      // SQS refuses a redrive policy naming a queue that does not exist (so does moto; fauxqs accepts it), so the
      // dead-letter queue is created, named in the policy, then deleted.
      const dlqUrl = await sqs.createQueue("watched__dlq");
      const { Attributes } = await sqs.client.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
      );
      await sqs.createQueue("watched", {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.["QueueArn"], maxReceiveCount: 3 }),
      });
      await sqs.client.send(new DeleteQueueCommand({ QueueUrl: dlqUrl }));
      const before = await queueNames();

      const [watched, missing] = await readQueueStatus(client, urls, ["watched", "never-created"]);
      assert.equal(watched?.exists, true);
      assert.deepEqual(
        watched?.deadLetter,
        { name: "watched__dlq", maxReceiveCount: 3, visible: 0, inFlight: 0, delayed: 0 },
        "the missing dead-letter queue reads as empty",
      );
      assert.equal(missing?.exists, false);
      assert.deepEqual(await queueNames(), before, "no queue was created by reading");
      await assert.rejects(urls.find("never-created"), QueueNotFoundError);

      // Creating is still what resolve() does when creation is on, and find() then sees the queue.
      const created = await urls.resolve("never-created");
      assert.equal(await urls.find("never-created"), created);
    });
  });
