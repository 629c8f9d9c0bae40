/**
 * Throughput of sqsd against a raw @aws-sdk/client-sqs loop, on the same local SQS server in one run.
 *
 *   npm run bench -- [--messages 20000] [--rounds 1]
 *
 * For each round it fills a queue with no-op messages and drains it twice: once with 16 concurrent
 * receive-10 + DeleteMessageBatch loops (the baseline), once with the sqsd daemon running a no-op handler on
 * its worker threads. It prints messages per second for each, their ratio, and SQS requests per message as
 * the server counted them. Compare the ratio, not the absolute rates: these machines are shared and noisy.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { BENCH_CREDENTIALS, spawnSqsd, startServerProcess, type Requests } from "./lib.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "20000" },
    rounds: { type: "string", default: "1" },
    "raw-loops": { type: "string", default: "16" },
    "tasks-per-thread": { type: "string", default: "80" },
  },
});
const messageCount = Number(values.messages);
const rounds = Number(values.rounds);
const rawLoops = Number(values["raw-loops"]);
const threads = availableParallelism();
const tasksPerThread = Number(values["tasks-per-thread"]);

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

function totalRequests(before: Requests, after: Requests): { total: number; byAction: Requests } {
  const byAction: Requests = {};
  let total = 0;
  for (const [action, count] of Object.entries(after)) {
    const delta = count - (before[action] ?? 0);
    if (delta > 0) byAction[action] = delta;
    total += delta;
  }
  return { total, byAction };
}

async function fill(client: SQSClient, queueUrl: string): Promise<void> {
  const batches = Math.ceil(messageCount / 10);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < batches) {
        const batch = next++;
        const size = Math.min(10, messageCount - batch * 10);
        await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Array.from({ length: size }, (_, index) => ({
              Id: String(index),
              MessageBody: `m${batch}-${index}`,
            })),
          }),
        );
      }
    }),
  );
}

/** The baseline: N concurrent loops of receive up to 10, then delete them in one batch. */
async function rawLoop(client: SQSClient, queueUrl: string): Promise<number> {
  let processed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: rawLoops }, async () => {
      while (processed < messageCount) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 60,
          }),
        );
        if (Messages.length === 0) continue;
        processed += Messages.length;
        await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
          }),
        );
      }
    }),
  );
  return performance.now() - started;
}

/** sqsd as users run it, with a no-op handler; timed from "sqsd started" to its exit at the message limit. */
async function sqsdRun(endpoint: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "sqsd-bench-"));
  try {
    const configPath = join(dir, "sqs.config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        endpoint,
        receivers: [here("./receivers/noop.ts")],
        pool: { threads, tasksPerThread },
        defaults: { visibilityTimeoutSeconds: 60 },
        // info: start-up and shutdown only; per-message records are debug.
        log: { level: "info", format: "json" },
      }),
    );
    const child = spawnSqsd(configPath, ["--message-limit", String(messageCount)]);
    let startedAt = 0;
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (startedAt === 0 && line.includes('"sqsd started"')) startedAt = performance.now();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (code !== 0) throw new Error(`sqsd exited with ${String(code)}`);
    return performance.now() - startedAt;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const server = await startServerProcess();
const client = new SQSClient({
  endpoint: server.endpoint,
  region: "us-east-1",
  credentials: BENCH_CREDENTIALS,
  maxAttempts: 3,
});
console.log(`throughput: ${messageCount} no-op messages, ${rounds} round(s), ${threads} cores`);
console.log(`  raw:  ${rawLoops} concurrent receive-10 + DeleteMessageBatch loops`);
console.log(
  `  sqsd: ${threads} threads x ${tasksPerThread} tasks per thread (maxInFlight ${threads * tasksPerThread})\n`,
);

const results: { name: string; ms: number; requests: number; byAction: Requests }[] = [];
for (let round = 1; round <= rounds; round += 1) {
  for (const name of ["raw", "sqsd"] as const) {
    const queueName = name === "raw" ? "bench-raw" : "bench-sqsd";
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: queueName }));
    await fill(client, QueueUrl!);
    const before = await server.requests();
    const ms = name === "raw" ? await rawLoop(client, QueueUrl!) : await sqsdRun(server.endpoint);
    const { total, byAction } = totalRequests(before, await server.requests());
    results.push({ name, ms, requests: total, byAction });
    console.log(
      `round ${round} ${name.padEnd(4)} ${(messageCount / (ms / 1000)).toFixed(0).padStart(7)} msg/s  ` +
        `${(total / messageCount).toFixed(3)} requests/msg  ${JSON.stringify(byAction)}`,
    );
  }
}

// Each round runs both back to back, so the ratio within a round is what the noise disturbs least.
const ratios = Array.from({ length: rounds }, (_, index) => {
  const [raw, sqsd] = [results[index * 2]!, results[index * 2 + 1]!];
  return raw.ms / sqsd.ms;
}).sort((a, b) => a - b);
const medianRatio = ratios[Math.floor(ratios.length / 2)]!;
const requestsPerMessage = (name: string): string =>
  (
    results.filter((result) => result.name === name).reduce((sum, result) => sum + result.requests, 0) /
    (messageCount * rounds)
  ).toFixed(3);
console.log(
  `\nsqsd/raw throughput: median ${medianRatio.toFixed(2)} (rounds: ${ratios.map((ratio) => ratio.toFixed(2)).join(", ")})`,
);
console.log(`SQS requests per message: raw ${requestsPerMessage("raw")}, sqsd ${requestsPerMessage("sqsd")}`);
client.destroy();
server.stop();
