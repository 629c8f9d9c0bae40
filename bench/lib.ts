/**
 * What the bench scenarios share: the SQS server in a process of its own, queues and their contents, and the
 * measurements taken of a consumer (drain rate, requests, CPU time and memory from /proc, send-to-start
 * latency). The consumers themselves are started by consumers.ts.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type SendMessageBatchRequestEntry,
} from "@aws-sdk/client-sqs";
import { execFileSync, fork } from "node:child_process";
import type { Consumer } from "./consumers.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { wallClockMs } from "./receivers/work.js";

/** Credentials for the local server, which accepts any. */
export const BENCH_CREDENTIALS = { accessKeyId: "bench", secretAccessKey: "bench" } as const;

/** Request counts by SQS action. */
export type Requests = Record<string, number>;

export const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An SQS client for the local server with a socket budget of its own (each long poll holds a socket). */
export function benchClient(endpoint: string, maxSockets = 50): SQSClient {
  return new SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: BENCH_CREDENTIALS,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets }) },
  });
}

/** The local SQS server, running in a process of its own, and a client for the bench's own requests. */
export interface BenchServer {
  readonly endpoint: string;
  /** The server's process, whose CPU competes with the consumers' on a small machine. */
  readonly pid: number;
  readonly client: SQSClient;
  /** Requests the server has served so far, by queue name and then by action. */
  requestsByQueue(): Promise<Record<string, Requests>>;
  stop(): Promise<void>;
}

/**
 * Starts the local SQS server (bench/sqs-server.ts) in its own process, so it shares an event loop with no
 * consumer and its memory (it holds every backlog) is not counted as theirs.
 */
export async function startServer(): Promise<BenchServer> {
  const child = fork(here("./sqs-server.ts"), {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const endpoint = await new Promise<string>((resolve) =>
    child.once("message", (message) => resolve((message as { endpoint: string }).endpoint)),
  );
  const client = benchClient(endpoint);
  // Answers come back in the order asked, so a queue of resolvers is all the bookkeeping they need.
  const waiting: ((value: Record<string, Requests>) => void)[] = [];
  child.on("message", (message) =>
    waiting.shift()?.((message as { requestsByQueue: Record<string, Requests> }).requestsByQueue),
  );
  return {
    endpoint,
    pid: child.pid!,
    client,
    requestsByQueue: () =>
      new Promise((resolve) => {
        waiting.push(resolve);
        child.send("requestsByQueue");
      }),
    stop: async () => {
      client.destroy();
      child.send("stop");
      if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

/**
 * Requests made to `queues` between two readings, by action, leaving out the bench's own (sends, and the depth
 * reads of {@link drainTimed}), so what remains is what the consumer under test asked for.
 */
export function consumerRequests(
  before: Record<string, Requests>,
  after: Record<string, Requests>,
  queues: readonly string[],
): { total: number; byAction: Requests } {
  const byAction: Requests = {};
  let total = 0;
  for (const queue of queues) {
    for (const [action, count] of Object.entries(after[queue] ?? {})) {
      if (/^SendMessage|^GetQueueAttributes$/.test(action)) continue;
      const delta = count - (before[queue]?.[action] ?? 0);
      byAction[action] = (byAction[action] ?? 0) + delta;
      total += delta;
    }
  }
  return { total, byAction };
}

/** Runs `task` for each item with at most `concurrency` at once. */
export async function inParallel<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** Creates the queues (a few requests at a time) and returns their URLs in the same order. */
export async function createQueues(client: SQSClient, names: readonly string[]): Promise<string[]> {
  const urls = new Map<string, string>();
  await inParallel(names, 16, async (name) => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name }));
    urls.set(name, QueueUrl!);
  });
  return names.map((name) => urls.get(name)!);
}

/** Puts `count` messages on a queue with 16 concurrent SendMessageBatch loops; bodies are `body(index)`. */
export async function fillQueue(
  client: SQSClient,
  queueUrl: string,
  count: number,
  body: (index: number) => string = (index) => `message ${index}`,
): Promise<void> {
  const batches = Array.from({ length: Math.ceil(count / 10) }, (_, batch) => batch * 10);
  await inParallel(batches, 16, async (first) => {
    const entries: SendMessageBatchRequestEntry[] = [];
    for (let index = first; index < Math.min(first + 10, count); index += 1) {
      entries.push({ Id: String(index - first), MessageBody: body(index) });
    }
    const { Failed = [] } = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (Failed.length > 0) throw new Error(`${Failed.length} messages were not sent: ${Failed[0]?.Message}`);
  });
}

/** Messages still on a queue: visible plus received and not yet deleted. */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/**
 * Waits until a consumer has emptied a queue that held `total` messages, or `limitMs` has passed, reading the
 * depth every 20 ms; returns how many it processed (deleted) and in how long. Reading the server rather than
 * the consumer times every consumer alike, up to its last delete, and costs the server 50 cheap requests a
 * second (left out of the consumer's request counts).
 */
export async function drainTimed(
  client: SQSClient,
  queueUrl: string,
  total: number,
  limitMs: number,
): Promise<{ processed: number; seconds: number }> {
  const started = performance.now();
  let left = total;
  while (left > 0 && performance.now() - started < limitMs) {
    await sleep(20);
    left = await queueDepth(client, queueUrl);
  }
  return { processed: total - left, seconds: (performance.now() - started) / 1000 };
}

const clockTicksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/PID/stat: every thread, or only
 * thread `threadId` (/proc/PID/task/TID/stat; the main thread's id is the process's).
 */
export function processCpuMs(pid: number, threadId?: number): number {
  const path = threadId === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${threadId}/stat`;
  // Fields after the command name, which is in parentheses and may itself hold spaces; utime and stime are
  // fields 14 and 15 of the whole line, so 11 and 12 of what follows the name.
  const fields = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond) * 1000;
}

/** Resident memory of a process in MB (10^6 bytes; every thread: the supervisor's and the workers'), from /proc. */
export function processRssMb(pid: number): number {
  return processResidentMb(pid).rss;
}

/**
 * A process's resident memory in MB (10^6 bytes) from /proc/PID/status, split as the kernel counts it:
 * anonymous pages (V8's heaps, malloc, stacks: what a leak or a growing heap adds to) and file pages (the
 * node binary and shared libraries mapped in, which no load changes much).
 */
export function processResidentMb(pid: number): { readonly rss: number; readonly anon: number; readonly file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const mb = (key: string): number =>
    (Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) * 1024) / 1e6;
  return { rss: mb("VmRSS"), anon: mb("RssAnon"), file: mb("RssFile") + mb("RssShmem") };
}

/** A file handlers append latencies to (bench/receivers/work.ts `latency`), one number in ms a line. */
export function latencyFile(): { readonly path: string; readonly read: () => number[]; readonly remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "sqsd-bench-latency-"));
  const path = join(dir, "latency.txt");
  writeFileSync(path, "");
  return {
    path,
    read: () => readFileSync(path, "utf8").split("\n").filter(Boolean).map(Number),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Sends `count` single messages, one every `intervalMs` on a fixed schedule (a slow send does not delay the
 * next), each to `queueUrl(index)` with its send time as the body, for `latency` handlers to subtract from
 * their start time. The time is taken just before the request, so the latency includes the send itself.
 */
export async function sendTimed(
  client: SQSClient,
  count: number,
  intervalMs: number,
  queueUrl: (index: number) => string,
): Promise<void> {
  const sends: Promise<unknown>[] = [];
  const started = performance.now();
  for (let index = 0; index < count; index += 1) {
    const waitMs = started + index * intervalMs - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    sends.push(
      client.send(new SendMessageCommand({ QueueUrl: queueUrl(index), MessageBody: wallClockMs().toFixed(3) })),
    );
  }
  await Promise.all(sends);
}

/** Waits until `read()` holds `count` samples or `limitMs` has passed; returns the samples. */
export async function awaitSamples(read: () => number[], count: number, limitMs: number): Promise<number[]> {
  const deadline = performance.now() + limitMs;
  let samples = read();
  while (samples.length < count && performance.now() < deadline) {
    await sleep(100);
    samples = read();
  }
  return samples;
}

/** The `p`-th percentile (0..100) of `values` by nearest rank; Infinity for a missing sample. */
export function percentile(values: readonly number[], p: number, expected = values.length): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * expected));
  return sorted[rank - 1] ?? Infinity;
}

/** A queue by name (what sqsd's receivers register) and URL (what the peers poll). */
export interface QueueRef {
  readonly name: string;
  readonly url: string;
}

/** How one consumer fared against a queue filled before it started. */
export interface DrainResult {
  /** Messages processed (deleted) per second, from the consumer's start. */
  readonly rate: number;
  readonly processed: number;
  /** Whether it emptied the queue within the time limit (if not, `rate` covers the limit). */
  readonly finished: boolean;
  /** SQS requests the consumer made per message processed, start-up included. */
  readonly requestsPerMessage: number;
  readonly byAction: Requests;
  /** CPU time of the consumer's process (every thread) per message processed, in ms. */
  readonly cpuMsPerMessage: number;
  /** The same for its main thread alone: sqsd's supervisor, or all of a single-threaded peer's work. */
  readonly mainThreadCpuMsPerMessage: number;
  /**
   * Cores the SQS server's process and the bench's own (its depth reads) kept busy during the drain, on
   * average: CPU a consumer on a small machine competes with, and which SQS itself would not take from it.
   */
  readonly harnessCores: { readonly server: number; readonly bench: number };
}

/**
 * Fills a new queue with `messages`, starts a consumer on it, and times it until the queue is empty or
 * `limitMs` has passed; then stops it. Each consumer gets a queue of its own, so nothing a stopped consumer
 * left behind (a long poll the server still holds) can touch the next one's messages.
 */
export async function measureDrain(
  server: BenchServer,
  run: { queue: string; messages: number; limitMs: number; start(queue: QueueRef): Promise<Consumer> },
): Promise<DrainResult> {
  const [queueUrl] = await createQueues(server.client, [run.queue]);
  await fillQueue(server.client, queueUrl!, run.messages);
  const before = await server.requestsByQueue();
  const consumer = await run.start({ name: run.queue, url: queueUrl! });
  try {
    const cpuBefore = processCpuMs(consumer.pid);
    const mainThreadBefore = processCpuMs(consumer.pid, consumer.pid);
    const harnessBefore = { server: processCpuMs(server.pid), bench: processCpuMs(process.pid) };
    const { processed, seconds } = await drainTimed(server.client, queueUrl!, run.messages, run.limitMs);
    const cpuMsPerMessage = (processCpuMs(consumer.pid) - cpuBefore) / Math.max(processed, 1);
    const mainThreadCpuMsPerMessage =
      (processCpuMs(consumer.pid, consumer.pid) - mainThreadBefore) / Math.max(processed, 1);
    const harnessCores = {
      server: (processCpuMs(server.pid) - harnessBefore.server) / (seconds * 1000),
      bench: (processCpuMs(process.pid) - harnessBefore.bench) / (seconds * 1000),
    };
    const { total, byAction } = consumerRequests(before, await server.requestsByQueue(), [run.queue]);
    return {
      cpuMsPerMessage,
      mainThreadCpuMsPerMessage,
      harnessCores,
      rate: processed / seconds,
      processed,
      finished: processed === run.messages,
      requestsPerMessage: total / Math.max(processed, 1),
      byAction,
    };
  } finally {
    await consumer.stop();
  }
}
