import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { testConfig } from "../helpers/config.js";
import { SqsdProcess, type ExitStatus } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";
import { sqsServers, TEST_CREDENTIALS, TEST_REGION, TestSqs } from "../helpers/local-sqs.js";
import { Workspace } from "../helpers/workspace.js";

const TOKEN = "message-limit-token";
const QUEUES = ["limit-0", "limit-1", "limit-2", "limit-3"] as const;
/** Pairs sent, one pair to one queue at a time, in turn; the limit is every message they carry. */
const PAIRS = 6;
const LIMIT = PAIRS * 2;
/** The bound the issue states: a message sent to a listening daemon starts within 1 s. */
const START_BOUND_MS = 1_000;

/** One poller as /status.json reports it. */
interface PollerStatus {
  readonly queue: string;
  readonly receivesUnderWay: number;
}

/**
 * `--message-limit` near its end: every queue that may still receive keeps listening, so the last messages
 * before the limit start as soon as they arrive, whichever queue they land on. Counting the budget on messages
 * asked for let idle 20 s long polls on the other queues hold the last of it, and the queue whose messages had
 * just arrived sent no receive until one of those polls came back empty (up to 20 s).
 */
for (const server of sqsServers()) {
  describe(`--message-limit on ${server.name}`, { skip: server.skip }, () => {
    let sqs: TestSqs | undefined;
    let client: SQSClient | undefined;
    let daemon: SqsdProcess | undefined;
    let ws: Workspace | undefined;
    afterEach(async () => {
      await daemon?.dispose();
      client?.destroy();
      await sqs?.stop();
      ws?.remove();
    });

    it("starts the last messages before the limit within 1 s of their send, then drains and exits 0", async (t) => {
      sqs = await TestSqs.start({ server: server.name });
      client = new SQSClient({ endpoint: sqs.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
      const urls: string[] = [];
      for (const name of QUEUES) {
        const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name }));
        urls.push(QueueUrl!);
      }
      ws = new Workspace();
      const configPath = ws.writeConfig(
        testConfig(sqs, ["limit-queues"], {
          // The documented default: an idle queue's long poll waits 20 s at the server.
          defaults: { waitTimeSeconds: 20, visibilityTimeoutSeconds: 30 },
          // Both threads up before polling: a thread started on demand would add its start-up to a message's wait.
          pool: { threads: 2, minThreads: 2, tasksPerThread: 2 },
          http: { port: 0, token: TOKEN, statusCacheSeconds: 0 },
        }),
      );
      daemon = new SqsdProcess(["--config", configPath, "--message-limit", String(LIMIT)], {
        cwd: ws.dir,
        env: {
          ...ws.env,
          AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
          AWS_REGION: TEST_REGION,
        },
      });
      const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
      await daemon.started();
      // Sends begin once every queue has its long poll waiting, so start-up is not part of what is measured.
      await eventually(
        async () => {
          const response = await fetch(`${base}/status.json`);
          const { supervisor } = (await response.json()) as { supervisor: { pollers: PollerStatus[] } };
          return supervisor.pollers.length === QUEUES.length && supervisor.pollers.every((p) => p.receivesUnderWay > 0);
        },
        { timeoutMs: 30_000, message: () => "not every queue had a receive waiting" },
      );

      const sentAt = new Map<string, number>();
      for (let pair = 0; pair < PAIRS; pair++) {
        // The pacing of the scenario (a pair every 1.5 s), not a wait for a result.
        if (pair > 0) await sleep(1_500);
        const url = urls[pair % QUEUES.length]!;
        const at = Date.now();
        const output = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: [0, 1].map((n) => ({ Id: String(n), MessageBody: JSON.stringify({ pair, n }) })),
          }),
        );
        for (const entry of output.Successful ?? []) sentAt.set(entry.MessageId!, at);
      }
      assert.equal(sentAt.size, LIMIT, "every message sent");

      // The drain waits for the other queues' long polls to return (up to 20 s) before it exits.
      let exit: ExitStatus | undefined;
      void daemon.exited.then((status) => (exit = status));
      const status = await eventually(() => exit, { timeoutMs: 90_000, message: "the daemon did not exit" });
      assert.equal(status.code, 0, daemon.stderr.slice(-2_000));
      const reasons = daemon.logsWith("draining").map((record) => record.reason);
      assert.deepEqual(reasons, [`message limit of ${LIMIT} reached`]);

      const started = ws.events().filter((event) => event.event === "started");
      assert.deepEqual(new Set(started.map((event) => event.id)), new Set(sentAt.keys()), "each message started");
      assert.equal(started.length, LIMIT, "each message started once");
      const waits = started.map((event) => event.at - sentAt.get(event.id)!);
      t.diagnostic(`send to start: max ${Math.max(...waits)} ms over ${waits.length} messages`);
      const late = started
        .map((event) => ({
          pair: (event.body as { pair: number }).pair,
          queue: event.queue,
          ms: event.at - sentAt.get(event.id)!,
        }))
        .filter((entry) => entry.ms > START_BOUND_MS);
      assert.deepEqual(late, [], `messages that started more than ${START_BOUND_MS} ms after their send`);
    });
  });
}
