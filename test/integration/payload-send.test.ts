import assert from "node:assert/strict";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { after, before, beforeEach, describe, it } from "node:test";
import { MessageTooLargeError, register, send, ValidationError } from "../../src/index.js";
import { configureSqs } from "../../src/sqs/settings.js";
import { closeS3Clients } from "../../src/payloads/s3-store.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqs } from "../helpers/local-sqs.js";
import { TestBucket } from "../helpers/s3.js";

/** Sends refused locally are refused before anything reaches S3: no object is left behind by them. */
describe("sending with largePayloads: local refusals", () => {
  let sqs: TestSqs;
  let bucket: TestBucket;
  before(async () => {
    sqs = await TestSqs.start();
    bucket = await TestBucket.create(sqs.endpoint);
  });
  after(async () => {
    closeS3Clients();
    bucket.close();
    await sqs.stop();
  });
  beforeEach(() => {
    sqs.useForSending();
  });
  const withLargePayloads = (extra: Record<string, unknown> = {}): void =>
    configureSqs({ ...sqs.settings, largePayloads: { bucket: bucket.name, s3Endpoint: sqs.endpoint, ...extra } });

  it("refuses the reserved attribute names on inline sends, with or without largePayloads", async () => {
    await sqs.createQueue("plain");
    register("plain");
    for (const name of ["ExtendedPayloadSize", "SQSLargePayloadSize"]) {
      await assert.rejects(send("plain", { a: 1 }, { messageAttributes: { [name]: 3 } }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.match(error.message, new RegExp(`messageAttributes\\.${name}`));
        return true;
      });
    }
    sqs.useForSending();
    withLargePayloads();
    register("plain");
    await assert.rejects(send("plain", "x", { messageAttributes: { ExtendedPayloadSize: 1 } }), ValidationError);
  });

  it("refuses an offloaded send with no room for ExtendedPayloadSize before uploading", async () => {
    await sqs.createQueue("many");
    withLargePayloads({ always: true });
    register("many");
    const messageAttributes = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, i]));
    await assert.rejects(send("many", { a: 1 }, { messageAttributes }), /messageAttributes/);
    assert.deepEqual(await bucket.keys(), []);
  });

  it("refuses a pointer message too large for the queue before uploading", async () => {
    await sqs.createQueue("tiny", { MaximumMessageSize: "1024" });
    withLargePayloads({ always: true });
    register("tiny");
    // Attributes alone past the queue's 1 KiB: the pointer message cannot fit, whatever the body.
    const messageAttributes = { note: "n".repeat(1_000) };
    await assert.rejects(send("tiny", { a: 1 }, { messageAttributes }), MessageTooLargeError);
    assert.deepEqual(await bucket.keys(), []);
  });

  it("deletes the object again when SQS does not take the message", async () => {
    const url = await sqs.createQueue("vanishing");
    withLargePayloads({ always: true });
    register("vanishing");
    await send("vanishing", { first: true }); // resolves and caches the queue's URL
    assert.equal((await bucket.keys()).length, 1);
    await sqs.client.send(new DeleteQueueCommand({ QueueUrl: url }));

    await assert.rejects(send("vanishing", { second: true }));

    // The first object belongs to a message that was sent; the second, to one SQS refused, goes (in the background).
    await eventually(async () => (await bucket.keys()).length === 1, { timeoutMs: 60_000 });
  });
});
