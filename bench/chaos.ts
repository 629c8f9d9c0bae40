/**
 * The chaos run: 5,000 messages over 4 queues, handlers with random latency, 2% random throws and one thread
 * kill; meanwhile the network is cut twice, the daemon is sent SIGTERM and restarted, and SIGKILLed once and
 * restarted. At the end every message must be processed at least once or sit in the dead-letter queue.
 *
 *   npm run chaos
 *
 * It prints `sent = processed at least once + dead-lettered (lost)`, the duplicates, and the supervisor's
 * largest RSS, and exits 1 if a message was lost.
 *
 *   npm run chaos -- --idempotent
 *
 * runs the same with idempotent receivers on a redis-server it starts: it then also counts the deliveries
 * settled as duplicates, and exits 1 if an effect ran twice.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startLocalSqs } from "../src/embedded.js";
import { TcpProxy } from "../test/helpers/tcp-proxy.js";
import { RedisServer } from "../test/helpers/store-servers.js";

const MESSAGES = 5_000;
const QUEUES = ["chaos-a", "chaos-b", "chaos-c", "chaos-d"];
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const credentials = { accessKeyId: "chaos", secretAccessKey: "chaos" };

const dir = mkdtempSync(join(tmpdir(), "sqsd-chaos-"));
const eventsFile = join(dir, "events.txt");
const server = await startLocalSqs({ port: 0 });
const proxy = await TcpProxy.start(server.endpoint);
const client = new SQSClient({ endpoint: server.endpoint, region: "us-east-1", credentials });
const idempotent = process.argv.includes("--idempotent");
const redis = idempotent ? await RedisServer.start() : undefined;
let duplicateDeliveries = 0;
const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

try {
  const { QueueUrl: dlqUrl } = await client.send(new CreateQueueCommand({ QueueName: "chaos-dlq" }));
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
  );
  const redrive = JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 5 });
  const urls: string[] = [];
  for (const name of QUEUES) {
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: { RedrivePolicy: redrive } }),
    );
    urls.push(QueueUrl!);
  }
  const killAt = Math.floor(Math.random() * MESSAGES);
  const sent = new Set<string>();
  for (let start = 0; start < MESSAGES; start += 10) {
    const output = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: urls[(start / 10) % QUEUES.length],
        Entries: Array.from({ length: 10 }, (_, offset) => ({
          Id: String(offset),
          MessageBody: JSON.stringify({
            n: start + offset,
            ...(start + offset === killAt ? { killThread: true } : {}),
          }),
        })),
      }),
    );
    for (const entry of output.Successful ?? []) sent.add(entry.MessageId!);
  }
  log(`sent ${sent.size} messages over ${QUEUES.length} queues (message ${killAt} kills its thread)`);

  const configPath = join(dir, "sqs.config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      endpoint: proxy.endpoint,
      receivers: [here(idempotent ? "./receivers/chaos-idempotent.ts" : "./receivers/chaos.ts")],
      defaults: { visibilityTimeoutSeconds: 5, waitTimeSeconds: 2 },
      pool: { threads: 2, tasksPerThread: 8 },
      drainTimeoutMs: 10_000,
      stallSeconds: 10,
      // Info in the idempotent mode: each duplicate settlement is a line (outcome "duplicate"), counted here.
      log: { level: idempotent ? "info" : "warn", format: "json" },
    }),
  );
  let maxRssKb = 0;
  let daemon = startDaemon();
  const sampler = setInterval(() => {
    const status = daemon.pid ? `/proc/${daemon.pid}/status` : "";
    if (status && existsSync(status)) {
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(status, "utf8"))?.[1];
      if (rss) maxRssKb = Math.max(maxRssKb, Number(rss));
    }
  }, 250);

  await sleep(3_000);
  log("network cut 1 (4 s)");
  proxy.cut();
  await sleep(4_000);
  proxy.restore();
  await sleep(3_000);
  log("SIGTERM, then restart");
  daemon.kill("SIGTERM");
  log(`daemon exited with ${String(await exited(daemon))}`);
  daemon = startDaemon();
  await sleep(5_000);
  log("network cut 2 (4 s)");
  proxy.cut();
  await sleep(4_000);
  proxy.restore();
  await sleep(3_000);
  log("SIGKILL, then restart");
  daemon.kill("SIGKILL");
  await exited(daemon);
  daemon = startDaemon();

  // Done when the four queues are empty (what the SIGKILL stranded reappears after its visibility timeout).
  for (;;) {
    await sleep(2_000);
    let remaining = 0;
    for (const url of urls) {
      const { Attributes: counts = {} } = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
          ],
        }),
      );
      remaining += Object.values(counts).reduce((sum, value) => sum + Number(value), 0);
    }
    if (remaining === 0) break;
    log(`${remaining} messages still in the queues`);
  }
  daemon.kill("SIGTERM");
  log(`daemon exited with ${String(await exited(daemon))}`);
  clearInterval(sampler);

  const handled = readFileSync(eventsFile, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" ")[1]!);
  const processed = new Set(handled);
  const deadLettered = new Set<string>();
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
      }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) deadLettered.add(message.MessageId!);
  }
  const accounted = new Set([...processed, ...deadLettered]);
  const lost = [...sent].filter((id) => !accounted.has(id)).length;
  console.log(
    `\n${sent.size} sent = ${processed.size} processed at least once + ${[...deadLettered].filter((id) => !processed.has(id)).length} in the DLQ (${lost} lost)`,
  );
  console.log(`duplicates (processed more than once): ${handled.length - processed.size}`);
  if (idempotent) {
    console.log(`deliveries settled as duplicates (idempotency): ${duplicateDeliveries}`);
    if (handled.length !== processed.size) process.exitCode = 1;
  }
  console.log(`largest supervisor RSS: ${(maxRssKb / 1024).toFixed(1)} MiB`);
  if (lost > 0) process.exitCode = 1;
} finally {
  client.destroy();
  await proxy.stop();
  await server.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}

function startDaemon(): ChildProcess {
  log("starting sqsd");
  const child = spawn(process.execPath, [here("../bin/sqsd.js"), "--config", join(dir, "sqs.config.json")], {
    env: {
      ...process.env,
      CHAOS_EVENTS: eventsFile,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      NODE_NO_WARNINGS: "1",
      ...(redis ? { CHAOS_REDIS_URL: redis.url } : {}),
    },
    stdio: ["ignore", idempotent ? "pipe" : "ignore", "inherit"],
  });
  if (idempotent) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes('"outcome":"duplicate"')) duplicateDeliveries += 1;
    });
  }
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
