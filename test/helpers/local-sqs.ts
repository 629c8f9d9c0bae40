import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type SendMessageCommandInput,
} from "@aws-sdk/client-sqs";
import { startLocalSqs, type LocalSqsServer } from "../../src/embedded.js";
import { getRegistry } from "../../src/registry/registry.js";
import { configureSqs, type SqsSettings } from "../../src/sqs/settings.js";

/** Credentials the tests use; the local server accepts any. */
export const TEST_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;
export const TEST_REGION = "us-east-1";

/** Environment for a process (sqsd, a producer) that should talk to the SQS server at `endpoint`. */
function sqsEnv(endpoint: string): Record<string, string> {
  return {
    TEST_SQS_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: TEST_REGION,
  };
}

/** Queue depth as SQS reports it. */
export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/**
 * A real SQS-compatible server (fauxqs over HTTP on a free loopback port) plus a plain SDK client for the
 * test's own side: creating queues, sending, and reading counts the way any SQS user would.
 */
export class TestSqs {
  readonly server: LocalSqsServer;
  readonly client: SQSClient;

  private constructor(server: LocalSqsServer) {
    this.server = server;
    this.client = new SQSClient({ endpoint: server.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  }

  static async start(): Promise<TestSqs> {
    return new TestSqs(await startLocalSqs({ port: 0, region: TEST_REGION }));
  }

  get endpoint(): string {
    return this.server.endpoint;
  }

  /** Environment for a process that should talk to this server. */
  get env(): Record<string, string> {
    return sqsEnv(this.endpoint);
  }

  /** sqsd's own client settings for this server, for in-process tests of supervisor parts. */
  get settings(): SqsSettings {
    return {
      region: TEST_REGION,
      endpoint: this.endpoint,
      credentials: TEST_CREDENTIALS,
      queuePrefix: undefined,
      createQueues: false,
    };
  }

  /**
   * Points this thread's producer (send(), proxies) at this server with a fresh, empty registry, as a test
   * of sending starts.
   */
  useForSending(queuePrefix?: string): void {
    getRegistry().clear();
    configureSqs({ ...this.settings, queuePrefix, createQueues: true });
  }

  /**
   * Requests the server has served for `action` so far; with `queueUrl`, only those naming that queue (a daemon
   * consuming several queues makes requests for all of them).
   */
  requests(action: string, queueUrl?: string): number {
    if (queueUrl === undefined) return this.server.requests.get(action) ?? 0;
    const queue = queueUrl.slice(queueUrl.lastIndexOf("/") + 1);
    return this.server.requestsByQueue.get(queue)?.get(action) ?? 0;
  }

  /** Every request the server has served, of any action. */
  totalRequests(): number {
    return [...this.server.requests.values()].reduce((sum, count) => sum + count, 0);
  }

  async createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
    const { QueueUrl } = await this.client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
    return QueueUrl;
  }

  async send(queueUrl: string, body: string, extra: Partial<SendMessageCommandInput> = {}): Promise<string> {
    const { MessageId } = await this.client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...extra }),
    );
    return MessageId ?? "";
  }

  /** Sends `bodies` in batches of 10; resolves with the message ids in order. */
  async sendMany(queueUrl: string, bodies: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < bodies.length; start += 10) {
      const chunk = bodies.slice(start, start + 10);
      const output = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((body, index) => ({ Id: String(index), MessageBody: body })),
        }),
      );
      if (output.Failed && output.Failed.length > 0)
        throw new Error(`SendMessageBatch failed: ${JSON.stringify(output.Failed)}`);
      const byId = new Map((output.Successful ?? []).map((entry) => [entry.Id, entry.MessageId ?? ""]));
      chunk.forEach((_, index) => ids.push(byId.get(String(index)) ?? ""));
    }
    return ids;
  }

  async counts(queueUrl: string): Promise<QueueCounts> {
    const { Attributes = {} } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          "ApproximateNumberOfMessages",
          "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed",
        ],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  /** One receive with every attribute, a short wait and the given visibility timeout. */
  async receive(
    queueUrl: string,
    options: { max?: number; waitSeconds?: number; visibilitySeconds?: number } = {},
  ): Promise<Message[]> {
    const { Messages = [] } = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: options.max ?? 10,
        WaitTimeSeconds: options.waitSeconds ?? 1,
        VisibilityTimeout: options.visibilitySeconds ?? 30,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    return Messages;
  }

  async stop(): Promise<void> {
    this.client.destroy();
    await this.server.stop();
  }
}

/** A local SQS server in its own process (see sqs-server-main.ts); `kill("SIGSTOP")` freezes it. */
export class TestSqsProcess {
  readonly child: ChildProcess;
  readonly endpoint: string;

  private constructor(child: ChildProcess, endpoint: string) {
    this.child = child;
    this.endpoint = endpoint;
  }

  static async start(): Promise<TestSqsProcess> {
    const child = fork(fileURLToPath(new URL("./sqs-server-main.js", import.meta.url)), {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    const endpoint = await new Promise<string>((resolve, reject) => {
      child.once("message", (message) => resolve((message as { endpoint: string }).endpoint));
      child.once("exit", (code) => reject(new Error(`the SQS server process exited with ${String(code)}`)));
    });
    return new TestSqsProcess(child, endpoint);
  }

  /** A client for this server. */
  client(): SQSClient {
    return new SQSClient({ endpoint: this.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  }

  /** Environment for a process that should talk to this server. */
  get env(): Record<string, string> {
    return sqsEnv(this.endpoint);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGCONT");
    this.child.kill("SIGKILL");
    await exited;
  }
}
