/**
 * Bursts: 2 to 10 messages sent together (one SendMessageBatch) to a random queue, at random intervals, over 4
 * and over 100 queues, with every consumer at its defaults (20 s long polls; sqsd's default pool, which starts
 * threads on demand). Issue #19's targets for sqsd: send → handler start p50 ≤ 5 ms, p99 ≤ 50 ms, max ≤ 1 s;
 * and from the server's side, the longest stretch any queue spent without a receive in flight ≤ 100 ms.
 *
 * It runs on fauxqs (the bench's server) and on moto (`moto_server`, started here; skipped with the reason
 * when missing), and on each with sqsd, sqs-consumer (one Consumer per queue, `handleMessage`) and the raw SDK
 * loop (one loop per queue), one after another against the same server. Each consumer gets fresh queues and
 * talks to the server through a {@link ReceiveWatch}, a proxy that notes when each ReceiveMessage arrived
 * and when its answer went back: every queue of this scenario is eligible to receive all the time (no pause,
 * no cap, no limit, no errors), so any stretch without a receive in flight is a moment a message sent then
 * could not be received. The proxy adds one local hop to every request of every consumer alike.
 *
 * Handlers record send → start (bench/receivers/work.ts `latency`), so the figure holds the send, the long
 * poll's return, and the consumer's own path to the handler (for sqsd, the hop to a worker thread, and the
 * start of a thread when the pool grows).
 */
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { availableParallelism } from "node:os";
import { MotoServer } from "../../test/helpers/moto.js";
import { ReceiveWatch } from "../../test/helpers/receive-watch.js";
import { startPeer, startSqsd, type Consumer } from "../consumers.js";
import { awaitSamples, benchClient, createQueues, latencyFile, percentile, sleep } from "../lib.js";
import { wallClockMs } from "../receivers/work.js";
import { ms, type Row, type Scenario } from "../report.js";

/** Issue #19's targets. */
const TARGETS = { p50: 5, p99: 50, max: 1_000, stretch: 100 } as const;
const QUEUE_COUNTS = [4, 100] as const;
/** Bursts go out every 50 to 450 ms (uniformly), 4 a second on average, whatever the sends before them. */
const INTERVAL_MS = { min: 50, max: 450 } as const;
/** A message still waiting after this long waits for something other than a receive. */
const SAMPLE_LIMIT_MS = 30_000;
/** sqsd's default thread count on the machine, started up front in the warm-pool comparison. */
const WARM_THREADS = Math.max(1, availableParallelism());

interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly sent: number;
  readonly started: number;
  /** The longest stretch any queue spent without a receive in flight, in ms, and how many went past 100 ms. */
  readonly stretchMs: number;
  readonly queuesOver: number;
  /** Receives in the window by the MaxNumberOfMessages they asked for, e.g. `1×40 2×12 10×3`. */
  readonly asked: string;
}

/** What a consumer that failed to run is shown with: no sample, so every figure reads as missing. */
const NO_FIGURES: Figures = {
  p50: Infinity,
  p99: Infinity,
  max: Infinity,
  sent: 0,
  started: 0,
  stretchMs: Infinity,
  queuesOver: 0,
  asked: "",
};

const CONSUMERS = {
  sqsd: (endpoint: string, names: readonly string[], _: readonly string[], eventsFile: string) =>
    startSqsd(endpoint, { queues: names, work: "latency", eventsFile }),
  // For comparison only: every thread started with the daemon, so no message waits for a thread's start.
  "sqsd, warm pool": (endpoint: string, names: readonly string[], _: readonly string[], eventsFile: string) =>
    startSqsd(endpoint, {
      queues: names,
      work: "latency",
      eventsFile,
      config: { pool: { threads: WARM_THREADS, minThreads: WARM_THREADS } },
    }),
  "sqs-consumer": (endpoint: string, _: readonly string[], queueUrls: readonly string[], eventsFile: string) =>
    startPeer("sqs-consumer", { endpoint, queueUrls, work: "latency", eventsFile, mode: "message" }),
  "raw loop": (endpoint: string, _: readonly string[], queueUrls: readonly string[], eventsFile: string) =>
    startPeer("raw-loop", { endpoint, queueUrls, work: "latency", eventsFile, loops: 1 }),
} as const;
type ConsumerName = keyof typeof CONSUMERS;

export const bursts: Scenario = {
  name: "bursts",
  async run({ server, quick, log }) {
    const windowMs = quick ? 6_000 : 12_000;
    const rows: Row[] = [];
    const servers: { name: string; endpoint: string; client: SQSClient; stop(): Promise<void> }[] = [
      { name: "fauxqs", endpoint: server.endpoint, client: server.client, stop: async () => undefined },
    ];
    const motoMissing = MotoServer.unavailable();
    if (motoMissing === undefined) {
      const moto = await MotoServer.start();
      const client = benchClient(moto.endpoint);
      servers.push({
        name: "moto",
        endpoint: moto.endpoint,
        client,
        stop: async () => {
          client.destroy();
          await moto.stop();
        },
      });
    } else {
      rows.push({ measure: "on moto", value: "skipped", detail: motoMissing });
    }
    try {
      for (const sqs of servers) {
        for (const queues of QUEUE_COUNTS) {
          const results = {} as Record<ConsumerName, Figures>;
          for (const consumer of Object.keys(CONSUMERS) as ConsumerName[]) {
            // One consumer's failure is its figures (none), not the end of the others.
            results[consumer] = await measure(sqs, queues, consumer, windowMs).catch((error: unknown) => {
              log(`${sqs.name}, ${queues} queues, ${consumer} failed: ${String(error)}`);
              return NO_FIGURES;
            });
            log(`${sqs.name}, ${queues} queues, ${consumer}: ${describe(results[consumer])}`);
          }
          rows.push(...tableRows(`${queues} queues, ${sqs.name}`, results));
        }
      }
    } finally {
      // Every server, whatever ended the loop: a moto process left running would keep the bench from exiting.
      for (const sqs of servers) await sqs.stop();
    }
    return rows;
  },
};

/** Runs one consumer over fresh queues through the bursts; returns its figures. */
async function measure(
  sqs: { readonly name: string; readonly endpoint: string; readonly client: SQSClient },
  queueCount: number,
  consumer: ConsumerName,
  windowMs: number,
): Promise<Figures> {
  const tag = consumer.replace(/[^a-z]/g, "");
  const names = Array.from({ length: queueCount }, (_, index) => `bursts-${tag}-${queueCount}-${index}`);
  const urls = await createQueues(sqs.client, names);
  const watch = await ReceiveWatch.start(sqs.endpoint);
  const file = latencyFile();
  let running: Consumer | undefined;
  try {
    running = await CONSUMERS[consumer](watch.endpoint, names, urls, file.path);
    // Every consumer is measured from the moment each of its queues has a receive waiting at the server.
    const deadline = performance.now() + 60_000;
    while (!names.every((name) => watch.inFlight(name) > 0)) {
      if (performance.now() > deadline) throw new Error(`${consumer} never had a receive on every queue`);
      await sleep(50);
    }
    const windowStart = performance.now();
    const sent = await sendBursts(sqs.client, urls, windowMs);
    const samples = await awaitSamples(file.read, sent, SAMPLE_LIMIT_MS);
    const windowEnd = performance.now();
    const stretches = names.map((name) => watch.longestStretchWithout(name, windowStart, windowEnd).ms);
    const askedCounts = new Map<number, number>();
    for (const name of names) {
      for (const span of watch.receives(name)) {
        if (span.startMs >= windowStart)
          askedCounts.set(span.maxMessages, (askedCounts.get(span.maxMessages) ?? 0) + 1);
      }
    }
    return {
      p50: percentile(samples, 50, sent),
      p99: percentile(samples, 99, sent),
      max: percentile(samples, 100, sent),
      sent,
      started: samples.length,
      stretchMs: Math.max(...stretches),
      queuesOver: stretches.filter((stretch) => stretch > TARGETS.stretch).length,
      asked: [...askedCounts]
        .sort(([a], [b]) => a - b)
        .map(([size, count]) => `${size}×${count}`)
        .join(" "),
    };
  } finally {
    await running?.stop();
    await watch.stop();
    file.remove();
  }
}

/**
 * Sends bursts of 2 to 10 messages, each burst to a random queue in one SendMessageBatch, at random intervals
 * on a schedule of their own (a slow send does not delay the next), for `windowMs`; each body is the wall clock
 * just before its request. Resolves with the number of messages sent once every send has been answered.
 */
async function sendBursts(client: SQSClient, urls: readonly string[], windowMs: number): Promise<number> {
  const random = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));
  const sends: Promise<unknown>[] = [];
  const began = performance.now();
  let next = began;
  let sent = 0;
  while (next - began < windowMs) {
    const waitMs = next - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    const size = random(2, 10);
    const sentAt = wallClockMs().toFixed(3);
    sends.push(
      client.send(
        new SendMessageBatchCommand({
          QueueUrl: urls[random(0, urls.length - 1)]!,
          Entries: Array.from({ length: size }, (_, index) => ({ Id: String(index), MessageBody: sentAt })),
        }),
      ),
    );
    sent += size;
    next += random(INTERVAL_MS.min, INTERVAL_MS.max);
  }
  await Promise.all(sends);
  return sent;
}

/** Rows for one server and queue count: sqsd's figures against the targets, the peers' beside them. */
function tableRows(where: string, results: Record<ConsumerName, Figures>): Row[] {
  const { sqsd } = results;
  const peers = (figure: (result: Figures) => string): string =>
    (["sqsd, warm pool", "sqs-consumer", "raw loop"] as const)
      .map((name) => `${name} ${figure(results[name])}`)
      .join(", ");
  return [
    {
      measure: `send → start p50, ${where}`,
      value: ms(sqsd.p50),
      detail: `${sqsd.started}/${sqsd.sent} started; ${peers((result) => ms(result.p50))}`,
      target: `≤ ${TARGETS.p50} ms`,
      met: sqsd.p50 <= TARGETS.p50,
    },
    {
      measure: `send → start p99, ${where}`,
      value: ms(sqsd.p99),
      detail: peers((result) => ms(result.p99)),
      target: `≤ ${TARGETS.p99} ms`,
      met: sqsd.p99 <= TARGETS.p99,
    },
    {
      measure: `send → start max, ${where}`,
      value: ms(sqsd.max),
      detail: peers((result) => ms(result.max)),
      target: `≤ ${TARGETS.max} ms`,
      met: sqsd.max <= TARGETS.max,
    },
    {
      measure: `longest stretch a queue had no receive in flight, ${where}`,
      value: ms(sqsd.stretchMs),
      detail:
        `${sqsd.queuesOver} queues over ${TARGETS.stretch} ms; ` +
        peers((result) => `${ms(result.stretchMs)} (${result.queuesOver} over)`),
      target: `≤ ${TARGETS.stretch} ms`,
      met: sqsd.stretchMs <= TARGETS.stretch,
    },
  ];
}

const describe = (figures: Figures): string =>
  `p50 ${ms(figures.p50)}, p99 ${ms(figures.p99)}, max ${ms(figures.max)}, ` +
  `${figures.started}/${figures.sent} started, longest stretch without a receive ${ms(figures.stretchMs)} ` +
  `(${figures.queuesOver} queues over ${TARGETS.stretch} ms); receives by size asked ${figures.asked}`;
