import assert from "node:assert/strict";
import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterEach, describe, it } from "node:test";
import { TEST_CREDENTIALS, TEST_REGION } from "../helpers/local-sqs.js";
import { Scenario } from "../helpers/scenario.js";

/** `sqsd init` and the large-payload bucket: checked always, created only when asked. */
describe("sqsd init with largePayloads", () => {
  let scenario: Scenario;
  afterEach(() => scenario.dispose());

  it("reports a missing bucket (exit 1), creates it only with --create-bucket, then reports it present", async () => {
    scenario = await Scenario.start();
    const endpoint = scenario.sqs.endpoint;
    const config = scenario.writeConfig(["large-payloads"], {
      largePayloads: { bucket: "init-payloads", s3Endpoint: endpoint },
    });
    const s3 = new S3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true });
    const bucketExists = async (): Promise<boolean> =>
      s3.send(new HeadBucketCommand({ Bucket: "init-payloads" })).then(
        () => true,
        () => false,
      );
    try {
      const checked = await scenario.run(["init", "--config", config]);
      assert.equal(checked.code, 1, checked.stderr);
      assert.match(checked.stdout, /missing\s+s3:\/\/init-payloads\s+bucket does not exist/);
      assert.equal(await bucketExists(), false, "init without --create-bucket created the bucket");

      const created = await scenario.run(["init", "--config", config, "--create-bucket"]);
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /create\s+s3:\/\/init-payloads\s+bucket created/);
      assert.equal(await bucketExists(), true);

      const again = await scenario.run(["init", "--config", config, "--json"]);
      assert.equal(again.code, 0, again.stderr);
      const result = JSON.parse(again.stdout) as { buckets: { bucket: string; action: string }[] };
      assert.deepEqual(
        result.buckets.map(({ bucket, action }) => ({ bucket, action })),
        [{ bucket: "s3://init-payloads", action: "ok" }],
      );
    } finally {
      s3.destroy();
    }
  });
});
