/**
 * Latency: single messages at 50 a second on one queue, one at a time, to a consumer that is otherwise idle.
 * Each body carries its send time; the handler's first act is to append `now - send time` to a file
 * (bench/receivers/work.ts `latency`), so the figure is send → handler start as a user's code sees it: the
 * SendMessage, the long poll's return, and the consumer's own path to the handler (for sqsd, the hop to a
 * worker thread).
 *
 * sqsd runs its default pool (a thread per core, one task each); sqs-consumer one Consumer with batchSize 10.
 * Targets for sqsd: p50 ≤ 5 ms, p99 ≤ 50 ms.
 */
import { startPeer, startSqsd, type Consumer } from "../consumers.js";
import { awaitSamples, createQueues, latencyFile, percentile, sendTimed, sleep, type QueueRef } from "../lib.js";
import { ms, type Row, type Scenario } from "../report.js";

const INTERVAL_MS = 20;

export const latency: Scenario = {
  name: "latency",
  async run({ server, quick, log }) {
    const count = quick ? 250 : 1_000;
    const { endpoint } = server;
    const consumers = {
      sqsd: (queue: QueueRef, eventsFile: string) =>
        startSqsd(endpoint, { queues: [queue.name], work: "latency", eventsFile }),
      message: (queue: QueueRef, eventsFile: string) =>
        startPeer("sqs-consumer", { endpoint, queueUrls: [queue.url], work: "latency", eventsFile, mode: "message" }),
      batch: (queue: QueueRef, eventsFile: string) =>
        startPeer("sqs-consumer", { endpoint, queueUrls: [queue.url], work: "latency", eventsFile, mode: "batch" }),
    };
    const results = {} as Record<keyof typeof consumers, { p50: number; p99: number; started: number }>;
    for (const [name, start] of Object.entries(consumers) as [keyof typeof consumers, typeof consumers.sqsd][]) {
      const file = latencyFile();
      const queue = `latency-${name}`;
      const [url] = await createQueues(server.client, [queue]);
      const consumer: Consumer = await start({ name: queue, url: url! }, file.path);
      try {
        // Let the first long poll reach the server, so the first sample does not time the start-up.
        await sleep(1_000);
        await sendTimed(server.client, count, INTERVAL_MS, () => url!);
        const samples = await awaitSamples(file.read, count, 10_000);
        results[name] = {
          p50: percentile(samples, 50, count),
          p99: percentile(samples, 99, count),
          started: samples.length,
        };
        log(`${name}: p50 ${ms(results[name].p50)}, p99 ${ms(results[name].p99)}, ${samples.length}/${count} started`);
      } finally {
        await consumer.stop();
        file.remove();
      }
    }
    const { sqsd, message, batch } = results;
    const peers = (key: "p50" | "p99"): string =>
      `sqs-consumer ${ms(message[key])} (handleMessage) / ${ms(batch[key])} (batch)`;
    return [
      {
        measure: `send → handler start p50, sqsd (${count} messages at ${1000 / INTERVAL_MS}/s)`,
        value: ms(sqsd.p50),
        detail: peers("p50"),
        target: "≤ 5 ms",
        met: sqsd.p50 <= 5,
      },
      {
        measure: "send → handler start p99, sqsd",
        value: ms(sqsd.p99),
        detail: `${peers("p99")}; ${sqsd.started}/${count} started`,
        target: "≤ 50 ms",
        met: sqsd.p99 <= 50,
      },
    ] satisfies Row[];
  },
};
