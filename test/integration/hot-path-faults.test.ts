import assert from "node:assert/strict";
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { after, before, describe, it } from "node:test";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { AwsCredentialIdentity } from "@smithy/types";
import { SqsRequestError } from "../../src/errors.js";
import { failureKind } from "../../src/failure-kind.js";
import { SdkHotPath, type SqsHotPath } from "../../src/sqs/hot-path.js";
import { LeanSqs } from "../../src/sqs/lean/lean-sqs.js";
import { countSqsRequests } from "../../src/sqs/request-counter.js";
import { eventually } from "../helpers/eventually.js";
import { TEST_REGION, TestSqs } from "../helpers/local-sqs.js";
import { RecordingProxy, type CannedResponse } from "../helpers/recording-proxy.js";

/**
 * Faults the servers cannot be asked for: throttling, answered by the proxy as SQS answers it, and credentials
 * that expire and are renewed while the daemon runs. Each against both transports, built over an SDK client
 * the way the daemon builds them.
 */

/** SQS's throttling answer in its JSON protocol (awsQueryCompatible: the query error code in a header too). */
const THROTTLED: CannedResponse = {
  status: 400,
  headers: {
    "content-type": "application/x-amz-json-1.0",
    "x-amzn-query-error": "ThrottlingException;Sender",
    "x-amzn-requestid": "throttled-request",
  },
  body: JSON.stringify({ __type: "com.amazon.coral.availability#ThrottlingException", message: "Rate exceeded" }),
};

function hotPath(transport: "lean" | "sdk", client: SQSClient): SqsHotPath {
  if (transport === "sdk") return new SdkHotPath(client);
  const agents = { httpAgent: new Agent({ keepAlive: true }), httpsAgent: new HttpsAgent({ keepAlive: true }) };
  return new LeanSqs(client, { ...agents, requestTimeoutMs: 30_000 });
}

describe("the hot SQS actions under faults, lean and sdk alike", () => {
  let sqs: TestSqs;
  let proxy: RecordingProxy;
  let queueUrl: string;
  const clients: SQSClient[] = [];

  before(async () => {
    sqs = await TestSqs.start();
    proxy = await RecordingProxy.start(sqs.endpoint);
    queueUrl = await sqs.createQueue("faults");
  });

  after(async () => {
    for (const client of clients) client.destroy();
    await proxy?.stop();
    await sqs?.stop();
  });

  function client(options: { maxAttempts: number; credentials?: () => Promise<AwsCredentialIdentity> }): SQSClient {
    const created = new SQSClient({
      endpoint: proxy.endpoint,
      region: TEST_REGION,
      maxAttempts: options.maxAttempts,
      credentials: options.credentials ?? { accessKeyId: "test", secretAccessKey: "test" },
      // A fixed, small retry delay is the strategy's business; the tests only count attempts.
    });
    clients.push(created);
    return created;
  }

  /** Error answers as SQS, another SQS-compatible server or something in between might send them. */
  const ERROR_ANSWERS: Record<string, CannedResponse> = {
    "a modeled error with its query error header": {
      status: 400,
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender",
      },
      body: JSON.stringify({
        __type: "com.amazonaws.sqs#QueueDoesNotExist",
        message: "The specified queue does not exist.",
      }),
    },
    "a modeled error by shape name, without the header": {
      status: 400,
      headers: { "content-type": "application/x-amz-json-1.0" },
      body: JSON.stringify({ __type: "com.amazonaws.sqs#ReceiptHandleIsInvalid", message: "bad handle" }),
    },
    "a modeled error by its query code, without the header": {
      status: 400,
      headers: { "content-type": "application/x-amz-json-1.0" },
      body: JSON.stringify({ __type: "AWS.SimpleQueueService.NonExistentQueue", message: "gone" }),
    },
    "an unmodeled error": {
      status: 403,
      headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-query-error": "InvalidClientTokenId;Sender" },
      body: JSON.stringify({ __type: "com.amazon.coral.service#UnrecognizedClientException", message: "no such key" }),
    },
    "a server error page that is not JSON": {
      status: 503,
      headers: { "content-type": "text/html" },
      body: "<html><body>Service Unavailable</body></html>",
    },
  };

  it("derives the same awsCode, httpStatus, failure kind and error class from each error answer", async () => {
    for (const [what, answer] of Object.entries(ERROR_ANSWERS)) {
      proxy.answer = () => answer;
      try {
        const seen = [];
        for (const transport of ["lean", "sdk"] as const) {
          const hot = hotPath(transport, client({ maxAttempts: 1 }));
          const thrown = await hot.receiveMessage({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }).then(
            () => assert.fail(`${what}: expected a failure`),
            (error: unknown) => error as Error,
          );
          const request = new SqsRequestError("ReceiveMessage", thrown);
          seen.push({
            awsCode: request.awsCode,
            httpStatus: request.httpStatus,
            kind: failureKind(request),
            name: thrown.name,
            className: thrown.constructor.name,
          });
        }
        assert.deepStrictEqual(seen[0], seen[1], what);
      } finally {
        proxy.answer = () => undefined;
      }
    }
  });

  for (const transport of ["lean", "sdk"] as const) {
    it(`${transport}: retries a throttled request per the SDK's strategy, counting every attempt`, async () => {
      const sdkClient = client({ maxAttempts: 3 });
      const hot = hotPath(transport, sdkClient);
      const counted: string[] = [];
      countSqsRequests(hot instanceof LeanSqs ? hot : sdkClient, (action) => counted.push(action));
      let throttled = 0;
      proxy.answer = (request) => (request.action === "ReceiveMessage" && throttled++ < 1 ? THROTTLED : undefined);
      try {
        const before = proxy.sent("ReceiveMessage").length;
        const output = await hot.receiveMessage({ QueueUrl: queueUrl, WaitTimeSeconds: 0 });
        assert.equal(output.$metadata.attempts, 2);
        assert.equal(proxy.sent("ReceiveMessage").length - before, 2);
        assert.deepEqual(counted, ["ReceiveMessage", "ReceiveMessage"]);
      } finally {
        proxy.answer = () => undefined;
      }
    });

    it(`${transport}: classifies throttling as throttle once the attempts run out`, async () => {
      const sdkClient = client({ maxAttempts: 2 });
      const hot = hotPath(transport, sdkClient);
      proxy.answer = (request) => (request.action === "DeleteMessageBatch" ? THROTTLED : undefined);
      try {
        const before = proxy.sent("DeleteMessageBatch").length;
        const error = await hot
          .deleteMessageBatch({ QueueUrl: queueUrl, Entries: [{ Id: "0", ReceiptHandle: "r" }] })
          .then(
            () => assert.fail("expected throttling"),
            (thrown: unknown) => new SqsRequestError("DeleteMessageBatch", thrown),
          );
        assert.equal(proxy.sent("DeleteMessageBatch").length - before, 2);
        assert.equal(error.awsCode, "ThrottlingException");
        assert.equal(error.httpStatus, 400);
        assert.equal(failureKind(error), "throttle");
        assert.equal((error.cause as { $metadata?: { attempts?: number } }).$metadata?.attempts, 2);
      } finally {
        proxy.answer = () => undefined;
      }
    });

    it(`${transport}: a refused connection is transient`, async () => {
      const closed = await RecordingProxy.start(sqs.endpoint);
      const endpoint = closed.endpoint;
      await closed.stop();
      const sdkClient = new SQSClient({
        endpoint,
        region: TEST_REGION,
        maxAttempts: 1,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      });
      clients.push(sdkClient);
      const error = await hotPath(transport, sdkClient)
        .receiveMessage({ QueueUrl: queueUrl, WaitTimeSeconds: 0 })
        .then(
          () => assert.fail("expected a refused connection"),
          (thrown: unknown) => new SqsRequestError("ReceiveMessage", thrown),
        );
      assert.equal(error.httpStatus, undefined);
      assert.equal(failureKind(error), "transient");
    });

    it(`${transport}: signs with renewed credentials once the old ones expire, without a restart`, async () => {
      let issued = 0;
      // Credentials that the SDK's memoizer treats as expiring soon after they are issued (it renews them
      // within 5 minutes of their expiration), as temporary credentials from STS, SSO or a task role would.
      const credentials = async (): Promise<AwsCredentialIdentity> => {
        issued += 1;
        return {
          accessKeyId: `ROTATED${issued}`,
          secretAccessKey: "test",
          sessionToken: `session-${issued}`,
          expiration: new Date(Date.now() + 5 * 60_000 + 500),
        };
      };
      const hot = hotPath(transport, client({ maxAttempts: 1, credentials }));
      const start = proxy.requests.length;
      const keys = () =>
        new Set(
          proxy.requests
            .slice(start)
            .map((request) => request.accessKeyId)
            .filter(Boolean),
        );
      await hot.receiveMessage({ QueueUrl: queueUrl, WaitTimeSeconds: 0 });
      assert.deepEqual([...keys()], ["ROTATED1"]);
      // Requests go on as usual; once the first credentials expire, the next requests carry the renewed ones.
      await eventually(
        async () => {
          await hot.receiveMessage({ QueueUrl: queueUrl, WaitTimeSeconds: 0 });
          return keys().size > 1;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const used = [...keys()];
      assert.equal(used[0], "ROTATED1");
      assert.match(used.at(-1) ?? "", /^ROTATED[2-9]/);
      const last = proxy.requests.at(-1);
      assert.equal(last?.headers["x-amz-security-token"], `session-${used.at(-1)?.slice("ROTATED".length)}`);
    });
  }
});
