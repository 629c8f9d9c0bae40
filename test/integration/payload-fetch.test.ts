import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PayloadRefusedError } from "../../src/codecs/errors.js";
import type { LargePayloadsOptions } from "../../src/config/types.js";
import { resolveBody } from "../../src/payloads/fetch.js";
import { pointerBody } from "../../src/payloads/pointer.js";
import { closeS3Clients } from "../../src/payloads/s3-store.js";
import { configureSqs } from "../../src/sqs/settings.js";
import { TestSqs } from "../helpers/local-sqs.js";
import { TestBucket } from "../helpers/s3.js";

/** A received pointer message to `bucket`/`key` that declares `size` bytes (or no valid size). */
const pointer = (bucket: string, key: string, size = "10") => ({
  body: pointerBody({ bucket, key }),
  messageAttributes: { ExtendedPayloadSize: { dataType: "Number", stringValue: size } },
});

/** What a receiver reads of a pointer anyone could have sent: only allowed buckets, never past the size limit. */
describe("reading an offloaded body (untrusted pointers)", () => {
  let sqs: TestSqs;
  let bucket: TestBucket;
  let other: TestBucket;
  let options: LargePayloadsOptions;
  before(async () => {
    sqs = await TestSqs.start();
    bucket = await TestBucket.create(sqs.endpoint);
    other = await TestBucket.create(sqs.endpoint, "someone-elses");
    configureSqs(sqs.settings);
    options = { bucket: bucket.name, s3Endpoint: sqs.endpoint, maxPayloadBytes: 1_000 };
    await bucket.put("small", "x".repeat(1_000));
    await bucket.put("large", "y".repeat(5_000));
    await other.put("k", "secret");
  });
  after(async () => {
    closeS3Clients();
    bucket.close();
    other.close();
    await sqs.stop();
  });

  it("reads a body within the limit from the configured bucket", async () => {
    const resolved = await resolveBody(pointer(bucket.name, "small"), options);
    assert.equal(resolved.text, "x".repeat(1_000));
  });

  it("refuses a bucket that is neither largePayloads.bucket nor in allowedBuckets, naming bucket and key", async () => {
    await assert.rejects(resolveBody(pointer("someone-elses", "k"), options), (error: unknown) => {
      assert.ok(error instanceof PayloadRefusedError);
      assert.equal(error.code, "SQSD_PAYLOAD_REFUSED");
      assert.match(error.message, /s3:\/\/someone-elses\/k/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
    const allowed = await resolveBody(pointer("someone-elses", "k"), { ...options, allowedBuckets: ["someone-elses"] });
    assert.equal(allowed.text, "secret");
  });

  it("refuses an object larger than maxPayloadBytes, whether declared, by its length, or as it streams", async () => {
    // Declared too large: refused before any request.
    await assert.rejects(resolveBody(pointer(bucket.name, "small", "2000"), options), /declares 2000 bytes/);
    // Declared small (a sender can lie): the object's ContentLength gives it away.
    await assert.rejects(resolveBody(pointer(bucket.name, "large", "10"), options), (error: unknown) => {
      assert.ok(error instanceof PayloadRefusedError);
      assert.match(error.message, /s3:\/\/sqsd-payloads\/large.*5000 bytes.*maxPayloadBytes \(1000\)/);
      return true;
    });
  });

  it("uses the settings' S3 endpoint (the embedded server's) for options that name none, as a receiver's own", async () => {
    configureSqs({ ...sqs.settings, s3Endpoint: sqs.endpoint });
    try {
      const own: LargePayloadsOptions = { bucket: bucket.name };
      const resolved = await resolveBody(pointer(bucket.name, "small"), own);
      assert.equal(resolved.text, "x".repeat(1_000));
    } finally {
      configureSqs({ s3Endpoint: undefined });
    }
  });

  it("refuses an offloaded message on a queue without largePayloads, and passes inline ones through", async () => {
    await assert.rejects(resolveBody(pointer(bucket.name, "small"), undefined), (error: unknown) => {
      assert.ok(error instanceof PayloadRefusedError);
      assert.match(error.message, /no largePayloads/);
      return true;
    });
    const inline = await resolveBody({ body: "[1,2]", messageAttributes: {} }, undefined);
    assert.deepEqual(inline, { text: "[1,2]", payload: { location: "inline" } });
  });
});
