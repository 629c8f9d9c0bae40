/**
 * The dashboard's live stream under many viewers: sqsd consumes a steady trickle (about 50 messages a second,
 * a no-op handler) with `http` on, while first 1 and then 50 clients hold `GET /events` open, each for the
 * same window (30 s; 10 s with --quick). The daemon's CPU time (every thread, from /proc) over each window,
 * as a share of one core, is compared: the stream is serialized once per sample and the same text written to
 * each socket, and queue counts come from the status cache, so 50 viewers should cost about what one does.
 * Also counted: SQS requests per second in each window (extra viewers must add none).
 *
 * Target: CPU with 50 clients within 5 percentage points of a core of CPU with 1 client.
 */
import { request, type ClientRequest } from "node:http";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { startSqsd } from "../consumers.js";
import { createQueues, processCpuMs, sleep } from "../lib.js";
import type { Row, Scenario } from "../report.js";

const VIEWERS = 50;
const TARGET_POINTS = 5;

export const sse: Scenario = {
  name: "sse",
  async run({ server, quick, log }) {
    const windowS = quick ? 10 : 30;
    const queue = "sse-trickle";
    const [url] = await createQueues(server.client, [queue]);
    const daemon = await startSqsd(server.endpoint, {
      queues: [queue],
      work: "noop",
      config: { pool: { threads: 2 }, http: { port: 0, statusCacheSeconds: 5 } },
    });
    const feeding = new AbortController();
    const feeder = (async () => {
      while (!feeding.signal.aborted) {
        await server.client.send(
          new SendMessageBatchCommand({
            QueueUrl: url!,
            Entries: Array.from({ length: 10 }, (_, index) => ({ Id: String(index), MessageBody: "x" })),
          }),
        );
        await sleep(200);
      }
    })();
    const streams: ClientRequest[] = [];
    const received = new Map<ClientRequest, number>();
    const open = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const req = request(`${daemon.httpUrl!}/events`, (response) => {
          if (response.statusCode !== 200) reject(new Error(`/events answered ${response.statusCode}`));
          response.on("data", (chunk: Buffer) => received.set(req, (received.get(req) ?? 0) + chunk.length));
          response.on("error", () => undefined);
          resolve();
        });
        req.on("error", reject);
        req.end();
        streams.push(req);
      });
    const requestsNow = async (): Promise<number> =>
      Object.values((await server.requestsByQueue())[queue] ?? {}).reduce((sum, count) => sum + count, 0);
    const measure = async (label: string) => {
      const cpu0 = processCpuMs(daemon.pid);
      const requests0 = await requestsNow();
      const began = performance.now();
      await sleep(windowS * 1000);
      const seconds = (performance.now() - began) / 1000;
      const cpuShare = (processCpuMs(daemon.pid) - cpu0) / 1000 / seconds;
      // The bench's own sends are in the count too; they are the same in both windows.
      const requestsPerSecond = ((await requestsNow()) - requests0) / seconds;
      log(`${label}: CPU ${(cpuShare * 100).toFixed(1)}% of a core, ${requestsPerSecond.toFixed(1)} SQS requests/s`);
      return { cpuShare, requestsPerSecond };
    };
    try {
      await open();
      await sleep(5_000);
      const one = await measure("1 client");
      for (let index = 1; index < VIEWERS; index += 1) await open();
      await sleep(3_000);
      const many = await measure(`${VIEWERS} clients`);
      const starved = [...received.values()].filter((bytes) => bytes === 0).length;
      const points = (many.cpuShare - one.cpuShare) * 100;
      return [
        {
          measure: `daemon CPU, ${VIEWERS} SSE clients − 1 client (percentage points of a core)`,
          value: `${points >= 0 ? "+" : ""}${points.toFixed(1)} pp`,
          detail: `1 client: ${(one.cpuShare * 100).toFixed(1)}% of a core; ${VIEWERS} clients: ${(many.cpuShare * 100).toFixed(1)}% (${windowS} s each, ~50 msg/s flowing); clients that got nothing: ${starved}`,
          target: `≤ +${TARGET_POINTS} pp`,
          met: points <= TARGET_POINTS && starved === 0,
        },
        {
          measure: "SQS requests/s on the queue, 50 clients ÷ 1 client",
          value: `${(many.requestsPerSecond / Math.max(0.001, one.requestsPerSecond)).toFixed(2)}×`,
          detail: `${one.requestsPerSecond.toFixed(1)} vs ${many.requestsPerSecond.toFixed(1)} requests/s (sends included)`,
        },
      ] satisfies Row[];
    } finally {
      for (const stream of streams) stream.destroy();
      feeding.abort();
      await feeder.catch(() => undefined);
      await daemon.stop();
    }
  },
};
