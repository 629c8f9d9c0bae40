import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { QueueDoesNotExist, SQSClient, SQSServiceException } from "@aws-sdk/client-sqs";
import { SqsRequestError } from "../../src/errors.js";
import { failureKind } from "../../src/failure-kind.js";
import { requestUrl, resolveSqsEndpoint } from "../../src/sqs/lean/endpoint.js";
import { errorCode, serviceError } from "../../src/sqs/lean/errors.js";
import { correctedClockOffset, parseJson } from "../../src/sqs/lean/retry.js";
import { ReceiveBodies, receiveMessageBody } from "../../src/sqs/lean/wire.js";

/**
 * The lean path's pure parts: which endpoint the SDK's rules give it (region, FIPS, dual-stack, the
 * environment's endpoint URLs, an explicit endpoint), where a request with a QueueUrl goes, and how an error
 * answer becomes the SDK's exception.
 */
const ENDPOINT_ENV = ["AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] as const;

describe("the lean path's endpoint", () => {
  const saved = Object.fromEntries(ENDPOINT_ENV.map((name) => [name, process.env[name]]));
  afterEach(() => {
    for (const name of ENDPOINT_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
  const clean = () => {
    for (const name of ENDPOINT_ENV) delete process.env[name];
  };
  const credentials = { accessKeyId: "a", secretAccessKey: "b" };
  const resolve = async (options: ConstructorParameters<typeof SQSClient>[0]) => {
    const client = new SQSClient({ credentials, ...options });
    try {
      const endpoint = await resolveSqsEndpoint(client);
      return { url: endpoint.url.href, region: endpoint.signingRegion, name: endpoint.signingName };
    } finally {
      client.destroy();
    }
  };

  it("is the region's SQS endpoint by default", async () => {
    clean();
    assert.deepEqual(await resolve({ region: "eu-west-1" }), {
      url: "https://sqs.eu-west-1.amazonaws.com/",
      region: "eu-west-1",
      name: "sqs",
    });
  });

  it("follows FIPS and dual-stack as the SDK's ruleset does", async () => {
    clean();
    assert.equal(
      (await resolve({ region: "us-east-1", useFipsEndpoint: true })).url,
      "https://sqs-fips.us-east-1.amazonaws.com/",
    );
    assert.equal(
      (await resolve({ region: "us-east-1", useDualstackEndpoint: true })).url,
      "https://sqs.us-east-1.api.aws/",
    );
    assert.equal(
      (await resolve({ region: "us-east-1", useFipsEndpoint: true, useDualstackEndpoint: true })).url,
      "https://sqs-fips.us-east-1.api.aws/",
    );
    assert.equal((await resolve({ region: "cn-north-1" })).url, "https://sqs.cn-north-1.amazonaws.com.cn/");
  });

  it("takes AWS_ENDPOINT_URL_SQS over AWS_ENDPOINT_URL, and neither when told to ignore them", async () => {
    clean();
    process.env["AWS_ENDPOINT_URL"] = "http://all-services.test:4000";
    assert.equal((await resolve({ region: "us-east-1" })).url, "http://all-services.test:4000/");
    process.env["AWS_ENDPOINT_URL_SQS"] = "http://sqs-only.test:4566";
    assert.deepEqual(await resolve({ region: "us-west-2" }), {
      url: "http://sqs-only.test:4566/",
      region: "us-west-2",
      name: "sqs",
    });
    process.env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
    assert.equal((await resolve({ region: "us-east-1" })).url, "https://sqs.us-east-1.amazonaws.com/");
  });

  it("takes an explicit endpoint over the environment's", async () => {
    clean();
    process.env["AWS_ENDPOINT_URL_SQS"] = "http://sqs-only.test:4566";
    assert.equal(
      (await resolve({ region: "us-east-1", endpoint: "http://explicit.test:9324" })).url,
      "http://explicit.test:9324/",
    );
  });

  it("sends to the QueueUrl's origin only where the SDK's SQS middleware would", () => {
    const endpoint = new URL("https://sqs.us-east-1.amazonaws.com/");
    const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs";
    const rule = { explicitEndpoint: false, useQueueUrlAsEndpoint: true };
    assert.equal(requestUrl(endpoint, queueUrl, rule).href, "https://sqs.eu-west-1.amazonaws.com/");
    assert.equal(requestUrl(endpoint, queueUrl, { ...rule, explicitEndpoint: true }).href, endpoint.href);
    assert.equal(requestUrl(endpoint, queueUrl, { ...rule, useQueueUrlAsEndpoint: false }).href, endpoint.href);
    assert.equal(requestUrl(endpoint, "not a url", rule).href, endpoint.href);
    assert.equal(
      requestUrl(new URL("http://proxy.test:8080/sqs"), undefined, rule).href,
      "http://proxy.test:8080/sqs/",
    );
  });
});

describe("the lean path's error answers", () => {
  const metadata = { httpStatusCode: 400, requestId: "req-1" };
  const json = (body: object) => JSON.stringify(body);

  it("reads the code in the query-compatible order: body code (from x-amzn-query-error), header, __type", () => {
    assert.equal(errorCode({}, { Code: "A", __type: "ns#B" }), "A");
    assert.equal(errorCode({ "x-amzn-errortype": "C:http://internal" }, { __type: "ns#B" }), "C");
    assert.equal(errorCode({}, { __type: "com.amazonaws.sqs#QueueDoesNotExist" }), "QueueDoesNotExist");
    assert.equal(errorCode({}, {}), undefined);
  });

  it("builds the SDK's modeled exception, with the query error code as Code", () => {
    const error = serviceError(
      {
        statusCode: 400,
        headers: { "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender" },
        body: json({ __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." }),
      },
      metadata,
    );
    assert.ok(error instanceof QueueDoesNotExist);
    assert.equal(error.name, "QueueDoesNotExist");
    assert.equal(error.message, "The specified queue does not exist.");
    assert.equal(error.$fault, "client");
    const request = new SqsRequestError("ReceiveMessage", error);
    assert.equal(request.awsCode, "AWS.SimpleQueueService.NonExistentQueue");
    assert.equal(request.httpStatus, 400);
    assert.equal(failureKind(request), "client");
  });

  it("finds the modeled exception by its query error code when that is all the answer names", () => {
    const error = serviceError(
      {
        statusCode: 400,
        headers: {},
        body: json({ __type: "AWS.SimpleQueueService.NonExistentQueue", message: "gone" }),
      },
      metadata,
    );
    assert.ok(error instanceof QueueDoesNotExist);
  });

  it("names an unmodeled error by its code, as the SDK's base exception, and classifies throttling", () => {
    const error = serviceError(
      {
        statusCode: 400,
        headers: { "x-amzn-query-error": "ThrottlingException;Sender" },
        body: json({ __type: "com.amazon.coral.availability#ThrottlingException", message: "Rate exceeded" }),
      },
      metadata,
    );
    assert.ok(error instanceof SQSServiceException);
    assert.equal(error.name, "ThrottlingException");
    assert.equal(failureKind(new SqsRequestError("DeleteMessageBatch", error)), "throttle");
  });

  it("classifies a 5xx answer as transient", () => {
    const error = serviceError(
      { statusCode: 500, headers: {}, body: json({ __type: "InternalError" }) },
      { httpStatusCode: 500 },
    );
    assert.equal(error.$fault, "server");
    assert.equal(failureKind(new SqsRequestError("ReceiveMessage", error)), "transient");
  });
});

describe("the lean path's clock", () => {
  const answer = (date: string | undefined) => ({ statusCode: 403, headers: date ? { date } : {}, body: "" });

  it("takes the server's time after an answer shows a clock off by 5 minutes or more, as the SDK's signer does", () => {
    const serverAhead = new Date(Date.now() + 15 * 60_000).toUTCString();
    const offset = correctedClockOffset(answer(serverAhead), 0);
    assert.ok(offset !== undefined && offset > 14 * 60_000 && offset <= 15 * 60_000);
  });

  it("keeps its offset when the clocks agree or the answer has no usable Date", () => {
    assert.equal(correctedClockOffset(answer(new Date().toUTCString()), 0), undefined);
    assert.equal(correctedClockOffset(answer(undefined), 0), undefined);
    assert.equal(correctedClockOffset(answer("not a date"), 0), undefined);
  });
});

describe("an answer that is not JSON", () => {
  // A truncated ReceiveMessage answer: JSON.parse's own message would quote the bodies around the error.
  const truncated = '{"Messages":[{"Body":"card 4111-1111-1111-1111","MessageId":"m-1"},';

  it("fails the lean path as a SyntaxError that quotes none of it, and stays a server-side failure", () => {
    const error = (() => {
      try {
        parseJson(truncated);
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    assert.ok(error instanceof SyntaxError);
    assert.doesNotMatch(error.message, /4111|card|Body/);
  });

  it("is described without the text by SqsRequestError, whichever transport threw JSON.parse's error", () => {
    let parseError: unknown;
    try {
      JSON.parse(truncated);
    } catch (thrown) {
      parseError = thrown;
    }
    const error = new SqsRequestError("ReceiveMessage", parseError, { queueUrl: "https://sqs/q" });
    assert.doesNotMatch(error.message, /4111|card|Body/);
    assert.match(error.message, /not valid JSON/);
  });
});

describe("a queue's kept receive body", () => {
  it("is the body the SDK's member order gives, kept while every member matches and written anew when one changes", () => {
    const bodies = new ReceiveBodies();
    const attributes = ["All"];
    const input = {
      QueueUrl: "http://q/1",
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 20,
      MessageAttributeNames: attributes,
    };
    const first = bodies.body(input);
    assert.equal(first, receiveMessageBody(input));
    assert.equal(bodies.body({ ...input, MessageAttributeNames: ["All"] }), first);
    attributes[0] = "Trace";
    assert.equal(bodies.body(input), receiveMessageBody(input), "the caller's array changed after it was kept");
    for (const changed of [{ MaxNumberOfMessages: 3 }, { VisibilityTimeout: 0 }, { QueueUrl: "http://q/2" }]) {
      const other = { ...input, ...changed };
      assert.equal(bodies.body(other), receiveMessageBody(other));
    }
    assert.equal(parseJson("{}").constructor, Object);
  });
});
