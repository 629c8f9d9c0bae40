import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type ReceiveMessageCommandInput,
} from "@aws-sdk/client-sqs";
import { SqsRequestError } from "../../src/errors.js";
import { failureKind } from "../../src/failure-kind.js";
import { createSqsConnection, type SqsConnection } from "../../src/sqs/client.js";
import type { SqsTransport } from "../../src/sqs/hot-path.js";
import { eventually } from "../helpers/eventually.js";
import { TEST_CREDENTIALS, TEST_REGION, TestSqs } from "../helpers/local-sqs.js";
import { MotoServer } from "../helpers/moto.js";
import { RecordingProxy } from "../helpers/recording-proxy.js";

/**
 * The lean path and the full SDK client on the hot actions, side by side against real servers (fauxqs and
 * moto), through a recording proxy: the same bytes on the wire, the same outputs for the same response bytes,
 * the same errors (as SqsRequestError reads them) for the same failures.
 */

interface Server {
  readonly endpoint: string;
  stop(): Promise<void>;
}

const servers: { name: string; skip: string | undefined; start: () => Promise<Server> }[] = [
  { name: "fauxqs", skip: undefined, start: () => TestSqs.start() },
  { name: "moto", skip: MotoServer.unavailable(), start: () => MotoServer.start() },
];

const TRANSPORTS: readonly SqsTransport[] = ["lean", "sdk"];
/** Headers whose values differ per request by design: the time, a fresh id, the signature, the user agent. */
const PER_REQUEST = new Set(["x-amz-date", "amz-sdk-invocation-id", "authorization", "user-agent", "host"]);

for (const server of servers) {
  describe(`the hot SQS actions, lean and sdk alike, on ${server.name}`, { skip: server.skip }, () => {
    let sqs: Server;
    let proxy: RecordingProxy;
    let admin: SQSClient;
    let connections: Record<SqsTransport, SqsConnection>;
    let queues = 0;

    before(async () => {
      sqs = await server.start();
      proxy = await RecordingProxy.start(sqs.endpoint);
      admin = new SQSClient({ endpoint: sqs.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
      const settings = {
        region: TEST_REGION,
        endpoint: proxy.endpoint,
        credentials: TEST_CREDENTIALS,
        queuePrefix: undefined,
        createQueues: false,
      };
      connections = {
        lean: createSqsConnection(settings, { transport: "lean", maxAttempts: 1 }),
        sdk: createSqsConnection(settings, { transport: "sdk", maxAttempts: 1 }),
      };
    });

    after(async () => {
      for (const connection of Object.values(connections ?? {})) connection.destroy();
      admin?.destroy();
      await proxy?.stop();
      await sqs?.stop();
    });

    async function newQueue(): Promise<string> {
      const { QueueUrl } = await admin.send(new CreateQueueCommand({ QueueName: `hot-${(queues += 1)}` }));
      assert.ok(QueueUrl);
      return QueueUrl;
    }

    /** The QueueUrl the clients under test send: the server's own (their endpoint, the proxy, is where it goes). */
    const viaProxy = (queueUrl: string): string => queueUrl;

    async function sendOne(queueUrl: string, body: string): Promise<void> {
      await admin.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageAttributes: {
            kind: { DataType: "String", StringValue: "invoice" },
            count: { DataType: "Number", StringValue: "42" },
            blob: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 2, 250, 255]) },
          },
        }),
      );
    }

    const receiveInput = (queueUrl: string, waitSeconds = 0): ReceiveMessageCommandInput => ({
      QueueUrl: viaProxy(queueUrl),
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      VisibilityTimeout: 30,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    });

    it("writes the request the SDK writes: the same body and the same signed headers", async () => {
      const queueUrl = await newQueue();
      const sent = proxy.requests.length;
      for (const transport of TRANSPORTS) await connections[transport].hot.receiveMessage(receiveInput(queueUrl));
      const [lean, sdk] = proxy.requests.slice(sent);
      assert.ok(lean && sdk);
      assert.equal(lean.body, sdk.body);
      const stable = (headers: typeof lean.headers) =>
        Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_REQUEST.has(name)));
      assert.deepEqual(stable(lean.headers), stable(sdk.headers));
      const signedHeaders = (authorization: string | undefined) =>
        /SignedHeaders=([^,]+)/.exec(authorization ?? "")?.[1];
      assert.equal(signedHeaders(lean.headers.authorization), signedHeaders(sdk.headers.authorization));
    });

    it("reads a received message, every attribute and message attribute included, into the same output", async () => {
      const queueUrl = await newQueue();
      await sendOne(queueUrl, "grüße, 世界");
      const first = await connections.lean.hot.receiveMessage(receiveInput(queueUrl, 1));
      assert.equal(first.Messages?.length, 1);
      const recorded = proxy.responses.at(-1);
      assert.ok(recorded?.action === "ReceiveMessage");
      // The same response bytes, replayed to each transport.
      proxy.answer = (request) => (request.action === "ReceiveMessage" ? recorded : undefined);
      try {
        const outputs = [];
        for (const transport of TRANSPORTS) {
          const { $metadata, ...output } = await connections[transport].hot.receiveMessage(receiveInput(queueUrl));
          assert.equal($metadata.httpStatusCode, 200);
          outputs.push(output);
        }
        assert.deepStrictEqual(outputs[0], outputs[1]);
        const message = outputs[0]?.Messages?.[0];
        assert.equal(message?.Body, "grüße, 世界");
        assert.deepStrictEqual(message?.MessageAttributes?.["blob"]?.BinaryValue, new Uint8Array([0, 1, 2, 250, 255]));
        assert.equal(message?.Attributes?.["ApproximateReceiveCount"], "1");
      } finally {
        proxy.answer = () => undefined;
      }
    });

    it("returns no messages from an empty queue after the wait", async () => {
      const queueUrl = await newQueue();
      const outputs = [];
      for (const transport of TRANSPORTS) {
        const { $metadata, ...output } = await connections[transport].hot.receiveMessage(receiveInput(queueUrl, 1));
        assert.equal($metadata.httpStatusCode, 200);
        outputs.push(output);
      }
      assert.deepStrictEqual(outputs[0], outputs[1]);
      assert.equal(outputs[0]?.Messages?.length ?? 0, 0);
    });

    it("ends a long poll when its signal is aborted, with an AbortError", async () => {
      const queueUrl = await newQueue();
      for (const transport of TRANSPORTS) {
        const controller = new AbortController();
        const before = proxy.sent("ReceiveMessage").length;
        const poll = connections[transport].hot.receiveMessage(receiveInput(queueUrl, 20), {
          abortSignal: controller.signal,
        });
        // Aborted once the request reached the server, not before it left.
        await eventually(() => proxy.sent("ReceiveMessage").length > before);
        controller.abort();
        await assert.rejects(poll, (error: Error) => {
          assert.equal(error.name, "AbortError", `${transport}: ${error.name}`);
          return true;
        });
      }
    });

    it("reports the same Failed entries for a delete batch with one bad receipt handle", async () => {
      const results = [];
      for (const transport of TRANSPORTS) {
        const queueUrl = await newQueue();
        await sendOne(queueUrl, "to delete");
        const received = await admin.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
        const handle = received.Messages?.[0]?.ReceiptHandle;
        assert.ok(handle);
        const { $metadata, ...output } = await connections[transport].hot.deleteMessageBatch({
          QueueUrl: viaProxy(queueUrl),
          Entries: [
            { Id: "good", ReceiptHandle: handle },
            { Id: "bad", ReceiptHandle: "not-a-receipt-handle" },
          ],
        });
        assert.equal($metadata.httpStatusCode, 200);
        results.push(batchShape(output));
      }
      assert.deepStrictEqual(results[0], results[1]);
      assert.ok(results[0]?.successful.includes("good"));
      // fauxqs takes any receipt handle; moto, like SQS, fails the entry as the sender's fault.
      if (server.name === "moto") {
        assert.deepEqual(
          results[0]?.failed.map((entry) => [entry.Id, entry.SenderFault]),
          [["bad", true]],
        );
      }
    });

    it("reports the same outcome for a visibility batch with one bad receipt handle", async () => {
      const results = [];
      for (const transport of TRANSPORTS) {
        const queueUrl = await newQueue();
        await sendOne(queueUrl, "to release");
        const received = await admin.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
        const handle = received.Messages?.[0]?.ReceiptHandle;
        assert.ok(handle);
        const { $metadata, ...output } = await connections[transport].hot.changeMessageVisibilityBatch({
          QueueUrl: viaProxy(queueUrl),
          Entries: [
            { Id: "good", ReceiptHandle: handle, VisibilityTimeout: 0 },
            { Id: "bad", ReceiptHandle: "not-a-receipt-handle", VisibilityTimeout: 0 },
          ],
        });
        assert.equal($metadata.httpStatusCode, 200);
        results.push(batchShape(output));
        // The good entry took effect: the message is visible again at once.
        const again = await admin.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
        assert.equal(again.Messages?.length, 1);
      }
      assert.deepStrictEqual(results[0], results[1]);
      assert.deepEqual(results[0]?.successful, ["good"]);
    });

    it("fails alike on a queue that does not exist: the same awsCode, httpStatus, failure kind and error class", async () => {
      const queueUrl = await newQueue();
      const missing = `${viaProxy(queueUrl)}-missing`;
      const seen: {
        transport: string;
        awsCode: string | undefined;
        httpStatus: number | undefined;
        kind: string;
        name: string;
        className: string;
      }[] = [];
      for (const transport of TRANSPORTS) {
        const hot = connections[transport].hot;
        for (const attempt of [
          () => hot.receiveMessage({ ...receiveInput(queueUrl), QueueUrl: missing }),
          () => hot.deleteMessageBatch({ QueueUrl: missing, Entries: [{ Id: "0", ReceiptHandle: "x" }] }),
        ]) {
          const error = await attempt().then(
            () => assert.fail(`${transport}: expected a failure`),
            (thrown: unknown) => thrown,
          );
          const request = new SqsRequestError("ReceiveMessage", error);
          seen.push({
            transport,
            awsCode: request.awsCode,
            httpStatus: request.httpStatus,
            kind: failureKind(request),
            name: (error as Error).name,
            className: (error as Error).constructor.name,
          });
        }
      }
      const strip = ({ transport: _, ...rest }: (typeof seen)[number]) => rest;
      assert.deepStrictEqual(seen.slice(0, 2).map(strip), seen.slice(2).map(strip));
      assert.equal(seen[0]?.kind, "client");
      assert.equal(seen[0]?.httpStatus, 400);
    });
  });
}

/** A batch result in a comparable shape: ids that succeeded, and each failure's id, code and fault. */
function batchShape(output: {
  Successful?: { Id?: string | undefined }[] | undefined;
  Failed?: { Id?: string | undefined; Code?: string | undefined; SenderFault?: boolean | undefined }[] | undefined;
}) {
  return {
    successful: (output.Successful ?? []).map((entry) => entry.Id).sort(),
    failed: (output.Failed ?? []).map(({ Id, Code, SenderFault }) => ({ Id, Code, SenderFault })),
    raw: output,
  };
}
