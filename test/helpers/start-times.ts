import { GetQueueUrlCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { SqsdProcess } from "./daemon.js";
import { eventually } from "./eventually.js";
import { TEST_CREDENTIALS, TEST_REGION, TestSqs } from "./local-sqs.js";
import { MotoServer } from "./moto.js";
import { fixture } from "./paths.js";
import { ReceiveWatch } from "./receive-watch.js";
import { Workspace, type HandlerEvent } from "./workspace.js";

/** A token for the daemon's control routes (/pause, /resume, /wake). */
const TOKEN = "start-times-token";

/** An SQS server the start-times test runs against. */
interface Server {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * The SQS servers every start-time check runs on: fauxqs, and moto unless `moto_server` is missing (the moto
 * runs then skip with the reason; CI sets `SQSD_REQUIRE_MOTO=1`, which makes a missing one a failure).
 */
export const SERVERS: readonly { name: string; skip: string | undefined; start(): Promise<Server> }[] = [
  { name: "fauxqs", skip: undefined, start: () => TestSqs.start() },
  { name: "moto", skip: MotoServer.unavailable(), start: () => MotoServer.start() },
];

/** What a daemon under test ran: its config's defaults, its CLI arguments, and whether it serves HTTP. */
export interface DaemonOptions {
  /** Queues to consume (positional arguments); every receiver of the fixture when empty. */
  readonly queues?: readonly string[];
  readonly defaults?: Record<string, unknown>;
  readonly pool?: Record<string, unknown>;
  readonly args?: readonly string[];
}

/**
 * One start-times scenario: a server, a {@link ReceiveWatch} in front of it (the daemon talks to the watch, so
 * the test sees its receives from the server's side), the daemon with the documented defaults (20 s long polls,
 * the default pool) and the fixture receivers of test/fixtures/receivers/start-times.ts, and a client for the
 * test's own sends, which go straight to the server.
 */
export class StartTimes {
  readonly ws = new Workspace();
  readonly client: SQSClient;
  readonly watch: ReceiveWatch;
  readonly #server: Server;
  #daemon: SqsdProcess | undefined;
  #httpUrl: string | undefined;

  private constructor(server: Server, watch: ReceiveWatch) {
    this.#server = server;
    this.watch = watch;
    this.client = new SQSClient({ endpoint: server.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  }

  static async start(server: { start(): Promise<Server> }): Promise<StartTimes> {
    const running = await server.start();
    return new StartTimes(running, await ReceiveWatch.start(running.endpoint));
  }

  get daemon(): SqsdProcess {
    if (this.#daemon === undefined) throw new Error("no daemon started");
    return this.#daemon;
  }

  /** Starts sqsd and resolves once it has started and every queue it consumes has a receive at the server. */
  async spawn(options: DaemonOptions = {}): Promise<SqsdProcess> {
    const config = {
      endpoint: this.watch.endpoint,
      region: TEST_REGION,
      receivers: [fixture("receivers", "start-times.ts")],
      createQueues: true,
      // Only what the test needs: everything that decides when a message starts keeps its documented default.
      ...(options.defaults === undefined ? {} : { defaults: options.defaults }),
      ...(options.pool === undefined ? {} : { pool: options.pool }),
      http: { port: 0, token: TOKEN, statusCacheSeconds: 0 },
      log: { level: "debug", format: "json" },
    };
    const configPath = this.ws.writeConfig(config);
    const daemon = new SqsdProcess([...(options.queues ?? []), "--config", configPath, ...(options.args ?? [])], {
      env: {
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_REGION: TEST_REGION,
        ...this.ws.env,
      },
      cwd: this.ws.dir,
    });
    this.#daemon = daemon;
    this.#httpUrl = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url;
    const started = await daemon.started();
    const queues = started.queues ?? [];
    await eventually(() => queues.every((queue) => this.watch.inFlight(queue) > 0), {
      timeoutMs: 30_000,
      message: () => `not every queue of ${queues.join(", ")} has a receive in flight`,
    });
    return daemon;
  }

  /** The URL of a queue the daemon created, as the server names it. */
  async queueUrl(name: string): Promise<string> {
    const { QueueUrl } = await this.client.send(new GetQueueUrlCommand({ QueueName: name }));
    if (QueueUrl === undefined) throw new Error(`no URL for ${name}`);
    return QueueUrl;
  }

  /**
   * Sends `count` messages to `queue` together, in one SendMessageBatch; resolves with the wall clock just
   * before the request, which each body carries too (`{ tag, sentAt }`).
   */
  async sendTogether(queue: string, count: number, tag: string): Promise<number> {
    const url = await this.queueUrl(queue);
    const sentAt = Date.now();
    const { Failed = [] } = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: count }, (_, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify({ tag, sentAt }),
        })),
      }),
    );
    if (Failed.length > 0) throw new Error(`${Failed.length} of ${count} not sent: ${Failed[0]?.Message}`);
    return sentAt;
  }

  /** POSTs a control route (`pause`, `resume`, `wake`); resolves with the wall clock just before the request. */
  async control(route: "pause" | "resume" | "wake"): Promise<number> {
    const at = Date.now();
    const response = await fetch(`${this.#httpUrl}/${route}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (!response.ok) throw new Error(`POST /${route} answered ${response.status}`);
    return at;
  }

  /**
   * Each queue's receives that reached the server after `wallMs` (a `Date.now()` reading), as `sent→answered`
   * in ms after it: where a late start spent its time, for an assertion message.
   */
  receivesAfter(queues: readonly string[], wallMs: number): string {
    const from = wallMs - performance.timeOrigin;
    return queues
      .map((queue) => {
        const spans = this.watch.receives(queue).filter((span) => span.startMs >= from);
        const described = spans.map(
          (span) =>
            `${Math.round(span.startMs - from)}→${span.endMs === undefined ? "…" : Math.round(span.endMs - from)}`,
        );
        return `${queue}: ${described.join(" ") || "none"}`;
      })
      .join("; ");
  }

  /** Handler starts recorded so far, each with its body's tag and send time. */
  starts(): (HandlerEvent & { readonly body: { readonly tag: string; readonly sentAt: number } })[] {
    return this.ws.events().filter((event) => event.event === "started") as ReturnType<StartTimes["starts"]>;
  }

  /** Waits until `count` handler starts are recorded; `timeoutMs` is a deadline, not a measure. */
  async awaitStarts(count: number, timeoutMs = 90_000): Promise<ReturnType<StartTimes["starts"]>> {
    return eventually(() => this.starts().length >= count && this.starts(), {
      timeoutMs,
      message: () => `${this.starts().length} of ${count} handlers started`,
    });
  }

  async dispose(): Promise<void> {
    await this.#daemon?.dispose();
    await this.watch.stop();
    this.client.destroy();
    await this.#server.stop();
    this.ws.remove();
  }
}

/** Each start's delay after `from(start)`, described for an assertion message. */
export function describeDelays(delays: readonly { readonly tag: string; readonly ms: number }[]): string {
  return delays.map(({ tag, ms }) => `${tag} ${ms} ms`).join(", ");
}
