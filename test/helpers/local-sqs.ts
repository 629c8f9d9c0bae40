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
import { startLocalSqs } from "../../src/embedded.js";
import { getRegistry } from "../../src/registry/registry.js";
import { configureSqs, type SqsSettings } from "../../src/sqs/settings.js";
import { CountingProxy } from "./counting-proxy.js";
import { MotoServer } from "./moto.js";

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

/** The SQS implementations the tests run against: fauxqs (embedded) and moto (`moto_server`). */
export type SqsServerName = "fauxqs" | "moto";

/** One server a test file runs its cases on, and why it skips them here (undefined: it runs). */
export interface SqsServerChoice {
  readonly name: SqsServerName;
  readonly skip: string | undefined;
}

/**
 * The servers to run a file's SQS-behaviour tests on: fauxqs always, moto unless `moto_server` is missing
 * (then its cases skip with the reason; with `SQSD_REQUIRE_MOTO=1`, as in CI, a missing moto fails instead).
 * `SQSD_TEST_SQS_SERVERS=fauxqs` (or `moto`) narrows the list, for a quick local run.
 */
export function sqsServers(): SqsServerChoice[] {
  const only = process.env["SQSD_TEST_SQS_SERVERS"]?.split(",").map((name) => name.trim());
  const wanted = (name: SqsServerName) => only === undefined || only.includes(name);
  const all: SqsServerChoice[] = [];
  if (wanted("fauxqs")) all.push({ name: "fauxqs", skip: undefined });
  // Probed only when wanted: a fauxqs-only run neither waits for the probe nor fails without moto.
  if (wanted("moto")) all.push({ name: "moto", skip: MotoServer.unavailable() });
  return all;
}

/** What a test reads from a server: its endpoint, and the requests it has served per action and per queue. */
interface CountedServer {
  readonly endpoint: string;
  readonly requests: ReadonlyMap<string, number>;
  readonly requestsByQueue: ReadonlyMap<string, ReadonlyMap<string, number>>;
  stop(): Promise<void>;
}

/** What {@link TestSqs.start} takes. */
export interface TestSqsOptions {
  /** @defaultValue "fauxqs" */
  readonly server?: SqsServerName;
}

/**
 * A real SQS-compatible server over HTTP on a free loopback port (fauxqs, or moto behind a counting proxy) plus
 * a plain SDK client for the test's own side: creating queues, sending, and reading counts the way any SQS
 * user would.
 */
export class TestSqs {
  readonly name: SqsServerName;
  readonly server: CountedServer;
  readonly client: SQSClient;

  private constructor(name: SqsServerName, server: CountedServer) {
    this.name = name;
    this.server = server;
    this.client = new SQSClient({ endpoint: server.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  }

  /**
   * Starts a server. A moto TestSqs uses its file's one moto ({@link MotoServer.shared}), emptied first unless
   * another TestSqs is using it at the moment, behind its own counting proxy, so its request counts are its own.
   */
  static async start(options: TestSqsOptions = {}): Promise<TestSqs> {
    if (options.server !== "moto") {
      return new TestSqs("fauxqs", await startLocalSqs({ port: 0, region: TEST_REGION }));
    }
    const moto = await MotoServer.shared();
    if (motoUsers === 0) await moto.reset();
    motoUsers += 1;
    const proxy = await CountingProxy.start(moto.endpoint);
    let stopping: Promise<void> | undefined;
    return new TestSqs("moto", {
      endpoint: proxy.endpoint,
      requests: proxy.requests,
      requestsByQueue: proxy.requestsByQueue,
      stop: () =>
        (stopping ??= proxy.stop().then(() => {
          motoUsers -= 1;
        })),
    });
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

/** TestSqs instances using the shared moto right now: the first one in empties it. */
let motoUsers = 0;

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
