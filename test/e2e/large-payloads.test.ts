import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterEach, describe, it } from "node:test";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { register, send, sendBatch } from "../../src/index.js";
import { configureSqs } from "../../src/sqs/settings.js";
import { eventually } from "../helpers/eventually.js";
import { fixture } from "../helpers/paths.js";
import { TestBucket } from "../helpers/s3.js";
import { Scenario } from "../helpers/scenario.js";

const MiB = 1024 * 1024;
const execFileAsync = promisify(execFile);
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** A JSON body of about `bytes` bytes. */
function bodyOf(bytes: number, label: string): { label: string; blob: string } {
  return { label, blob: "x".repeat(bytes) };
}

/** Large payloads through S3 against fauxqs, which serves S3 on its SQS endpoint: what a user sees. */
describe("large payloads (largePayloads)", () => {
  let scenario: Scenario;
  let bucket: TestBucket;
  const fresh = async (): Promise<void> => {
    scenario = await Scenario.start();
    bucket = await TestBucket.create(scenario.sqs.endpoint);
  };
  afterEach(async () => {
    bucket.close();
    await scenario.dispose();
  });

  /** Points this process's send() at the scenario's server, with these large-payload options. */
  const sendWith = (largePayloads: Record<string, unknown>): void => {
    scenario.sqs.useForSending();
    configureSqs({ largePayloads: bucket.options(largePayloads) as never });
    register("bigjobs");
  };

  it("sends a 5 MiB JSON body through S3, decodes it in a handler, and deletes the object after the message", async () => {
    await fresh();
    const url = await scenario.sqs.createQueue("bigjobs");
    sendWith({});
    const big = bodyOf(5 * MiB, "big");
    const small = { label: "small", n: 1 };
    await send("bigjobs", big);
    await send("bigjobs", small);
    // Only the large body went to S3; the small one stayed inline.
    assert.equal((await bucket.keys()).length, 1);
    assert.deepEqual(await scenario.sqs.counts(url), { visible: 2, inFlight: 0, delayed: 0 });

    const config = scenario.writeConfig(["large-payloads"], {
      largePayloads: bucket.options({ deleteAfterProcessing: true }),
    });
    const result = await scenario.run(["--config", config, "--message-limit", "2"]);

    assert.equal(result.code, 0, result.stderr);
    const events = scenario.ws.events();
    const byLabel = new Map(events.map((event) => [(event["payload"] as { location: string }).location, event]));
    const fromS3 = byLabel.get("s3");
    assert.ok(fromS3, "the big body came from S3");
    assert.equal(fromS3["bodySha256"], sha256(JSON.stringify(big)));
    assert.equal((fromS3["payload"] as { bucket: string }).bucket, bucket.name);
    const inline = byLabel.get("inline");
    assert.ok(inline, "the small body came inline");
    assert.equal(inline["bodySha256"], sha256(JSON.stringify(small)));
    // deleteAfterProcessing: the object went once the message was deleted.
    assert.deepEqual(await bucket.keys(), []);
    assert.deepEqual(await scenario.sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 });
  });

  it("sends a batch of 10 with 3 large entries in one request, and all 10 arrive whole", async () => {
    await fresh();
    const url = await scenario.sqs.createQueue("bigjobs");
    sendWith({});
    const bodies = Array.from({ length: 10 }, (_, index) =>
      bodyOf(index % 4 === 1 ? 2 * MiB : 1_000, `entry-${index}`),
    );
    const before = scenario.sqs.requests("SendMessageBatch", url);

    const result = await sendBatch("bigjobs", bodies);

    assert.deepEqual(result.failed, []);
    assert.equal(result.successful.length, 10);
    // The 1 MiB request limit counts the pointers, not the 6 MiB of payloads: one request.
    assert.equal(scenario.sqs.requests("SendMessageBatch", url) - before, 1);
    assert.equal((await bucket.keys()).length, 3);

    const config = scenario.writeConfig(["large-payloads"], { largePayloads: bucket.options() });
    const run = await scenario.run(["--config", config, "--message-limit", "10"]);

    assert.equal(run.code, 0, run.stderr);
    const received = new Map(scenario.ws.events().map((event) => [event["bodySha256"], event]));
    for (const body of bodies) {
      const event = received.get(sha256(JSON.stringify(body)));
      assert.ok(event, `${body.label} arrived`);
      const { location } = event["payload"] as { location: string };
      assert.equal(location, body.blob.length > MiB ? "s3" : "inline", body.label);
    }
    // Without deleteAfterProcessing the objects stay (for the bucket's lifecycle rule).
    assert.equal((await bucket.keys()).length, 3);
  });

  it("sends a message whose S3 object is missing to the dead-letter queue, logging bucket and key", async () => {
    await fresh();
    const dlqUrl = await scenario.sqs.createQueue("bigjobs__dlq");
    const { Attributes } = await scenario.sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
    );
    const url = await scenario.sqs.createQueue("bigjobs", {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 1 }),
    });
    const key = "gone-4f1c2b7a";
    await scenario.sqs.send(
      url,
      JSON.stringify(["software.amazon.payloadoffloading.PayloadS3Pointer", { s3BucketName: bucket.name, s3Key: key }]),
      { MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: "1234" } } },
    );
    const config = scenario.writeConfig(["large-payloads"], { largePayloads: bucket.options() });
    const daemon = scenario.spawn(["--config", config]);

    await eventually(async () => (await scenario.sqs.counts(dlqUrl)).visible === 1, { timeoutMs: 120_000 });
    daemon.kill("SIGTERM");
    assert.equal((await daemon.exited).code, 0, daemon.stderr);

    assert.equal(scenario.ws.events().length, 0, "the handler never ran");
    assert.deepEqual(await scenario.sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 });
    const failure = daemon.logs.find((record) => record.message === "message could not be decoded");
    assert.ok(failure, daemon.stdoutLines.join("\n"));
    assert.equal(failure.phase, "decode");
    assert.match(failure.error ?? "", new RegExp(`s3://${bucket.name}/${key} does not exist`));
    assert.match(failure.error ?? "", /^PayloadFetchError/);
  });

  it("reads pointer messages exactly as the Java (2.x and 1.x) and Python extended clients write them", async () => {
    await fresh();
    const url = await scenario.sqs.createQueue("bigjobs");
    const names = ["java-extended-client-2", "java-extended-client-1-legacy", "python-sqs-extended-client"];
    const expected = new Map<string, string>();
    for (const name of names) {
      const meta = JSON.parse(readFileSync(fixture("payloads", `${name}.json`), "utf8")) as {
        key: string;
        object: string;
        messageAttributes: Record<string, { DataType: string; StringValue: string }>;
      };
      await bucket.put(meta.key, meta.object);
      await scenario.sqs.send(url, readFileSync(fixture("payloads", `${name}.body`), "utf8"), {
        MessageAttributes: meta.messageAttributes,
      });
      expected.set(meta.key, sha256(JSON.stringify(JSON.parse(meta.object))));
    }
    const config = scenario.writeConfig(["large-payloads"], { largePayloads: bucket.options() });

    const result = await scenario.run(["--config", config, "--message-limit", "3"]);

    assert.equal(result.code, 0, result.stderr);
    const events = scenario.ws.events();
    assert.equal(events.length, 3);
    for (const event of events) {
      const payload = event["payload"] as { location: string; key: string };
      assert.equal(payload.location, "s3");
      assert.equal(event["bodySha256"], expected.get(payload.key), payload.key);
    }
  });

  // The python3 on PATH first (a developer's), then Debian's, where .ci/run installs python3-boto3.
  const pythons = ["python3", "/usr/bin/python3"];
  const probes = pythons.map((command) => spawnSync(command, ["-c", "import boto3"], { encoding: "utf8" }));
  const pythonIndex = probes.findIndex((probe) => !probe.error && probe.status === 0);
  const pythonMissing =
    pythonIndex === -1
      ? `python3 with boto3 is not available (${probes.map((probe) => probe.error?.message ?? probe.stderr.trim().split("\n").pop()).join("; ")}); .ci/run installs python3-boto3`
      : false;

  it("writes messages a Python reader of the published format can read", { skip: pythonMissing }, async () => {
    await fresh();
    const url = await scenario.sqs.createQueue("bigjobs");
    sendWith({ always: true, prefix: "sqsd/" });
    const body = { order: 7, note: "größe ✓" };
    await send("bigjobs", body);

    // Asynchronously: the SQS server runs in this process, and must go on answering while the reader runs.
    const python = pythons[pythonIndex] ?? "python3";
    const reader = await execFileAsync(python, [fixture("payloads", "read_extended.py"), scenario.sqs.endpoint, url], {
      encoding: "utf8",
      // boto3 reads AWS_DEFAULT_REGION, not AWS_REGION.
      env: { ...process.env, ...scenario.sqs.env, AWS_DEFAULT_REGION: "us-east-1" },
      timeout: 120_000,
    });

    const read = JSON.parse(reader.stdout) as Record<string, unknown>;
    assert.equal(read["pointerClass"], "software.amazon.payloadoffloading.PayloadS3Pointer");
    assert.equal(read["bucket"], bucket.name);
    assert.match(String(read["key"]), /^sqsd\/[0-9a-f-]{36}$/);
    assert.equal(read["dataType"], "Number");
    assert.equal(read["body"], JSON.stringify(body));
    assert.equal(read["declaredSize"], Buffer.byteLength(JSON.stringify(body)));
  });
});
