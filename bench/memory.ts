/**
 * Memory under a deep backlog: 100,000 messages queued, handlers that take 200 ms, the daemon running for a
 * minute. It samples the supervisor's RSS and its in-flight count (from /metrics) every second and prints
 * them, with the in-flight limit, so you can see that memory stays flat and in-flight never passes its limit
 * however deep the queue is.
 *
 *   npm run bench:memory -- [--messages 100000] [--seconds 60]
 */
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { BENCH_CREDENTIALS, spawnSqsd, startServerProcess } from "./lib.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { messages: { type: "string", default: "100000" }, seconds: { type: "string", default: "60" } },
});
const messages = Number(values.messages);
const seconds = Number(values.seconds);
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// The SQS server runs in its own process, so its memory (it holds the whole backlog) is not counted.
const serverProcess = await startServerProcess();
const { endpoint } = serverProcess;
const client = new SQSClient({ endpoint, region: "us-east-1", credentials: BENCH_CREDENTIALS });
const dir = mkdtempSync(join(tmpdir(), "sqsd-memory-"));
try {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: "memory-backlog" }));
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < messages) {
        const start = next;
        next += 10;
        await client.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({ length: Math.min(10, messages - start) }, (_, index) => ({
              Id: String(index),
              MessageBody: `job ${start + index}`,
            })),
          }),
        );
      }
    }),
  );
  console.log(`queued ${messages} messages; running sqsd for ${seconds} s (handlers take 200 ms)`);

  const configPath = join(dir, "sqs.config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      endpoint,
      receivers: [here("./receivers/slow.ts")],
      pool: { threads: 2, tasksPerThread: 8 },
      http: { port: 0 },
      log: { level: "info", format: "json" },
    }),
  );
  const daemon = spawnSqsd(configPath);
  const base = await new Promise<string>((resolve) =>
    createInterface({ input: daemon.stdout }).on("line", (line) => {
      const url = /"url":"([^"]+)"/.exec(line)?.[1];
      if (url) resolve(url);
    }),
  );
  const samples: { second: number; rssMiB: number; inFlight: number; processed: number }[] = [];
  let maxInFlightLimit = 0;
  for (let second = 1; second <= seconds; second += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, "utf8"))?.[1] ?? 0);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const metric = (name: string): number =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(metrics)?.[1] ?? 0);
    maxInFlightLimit = metric("sqsd_max_in_flight");
    samples.push({
      second,
      rssMiB: rssKb / 1024,
      inFlight: metric("sqsd_messages_in_flight"),
      processed: [...metrics.matchAll(/^sqsd_messages_succeeded_total\{[^}]*\} (\S+)$/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      ),
    });
  }
  daemon.kill("SIGTERM");
  await new Promise((resolve) => daemon.once("exit", resolve));

  for (const sample of samples.filter((item) => item.second % 10 === 0 || item.second === 1)) {
    console.log(
      `t=${String(sample.second).padStart(3)} s  RSS ${sample.rssMiB.toFixed(1).padStart(6)} MiB  in flight ${String(sample.inFlight).padStart(3)}/${maxInFlightLimit}  processed ${sample.processed}`,
    );
  }
  const steady = samples.filter((sample) => sample.second >= 10).map((sample) => sample.rssMiB);
  console.log(
    `\nRSS after warm-up (10 s on): min ${Math.min(...steady).toFixed(1)} MiB, max ${Math.max(...steady).toFixed(1)} MiB; ` +
      `largest in-flight sample ${Math.max(...samples.map((sample) => sample.inFlight))} (limit ${maxInFlightLimit}); ` +
      `${samples.at(-1)?.processed ?? 0} of ${messages} processed`,
  );
} finally {
  client.destroy();
  serverProcess.stop();
  rmSync(dir, { recursive: true, force: true });
}
