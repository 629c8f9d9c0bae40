/**
 * Many queues: 1,000 empty queues consumed by one sqsd with its default pool (a thread per core, one task
 * each, so far fewer slots than queues), then by sqs-consumer, which needs one Consumer per queue (1,000 of
 * them in one process, sharing one SQS client with a socket for each long poll).
 *
 * After a 5 s settle, an idle window (60 s) measures what idling costs: the receives the server saw for each
 * queue (20 s long polls make about 3 a minute), the consumer process's CPU time (utime + stime of every
 * thread, from /proc/PID/stat) and its peak RSS. Then single messages go, 100 ms apart, each to a random
 * queue; their handlers record send → start (bench/receivers/work.ts `latency`), which is only fast if that
 * queue was being polled when its message arrived.
 *
 * Targets for sqsd: every queue polled at about 3 receives a minute; idle CPU ≤ 3% of a core and ≤ 0.5×
 * sqs-consumer's; peak RSS ≤ 0.8× sqs-consumer's; send → start p99 ≤ 50 ms.
 */
import { startPeer, startSqsd, type Consumer } from "../consumers.js";
import {
  awaitSamples,
  createQueues,
  latencyFile,
  percentile,
  processCpuMs,
  processRssMb,
  sendTimed,
  sleep,
  type BenchServer,
} from "../lib.js";
import { ms, ratio, whole, type Row, type Scenario } from "../report.js";

const SETTLE_MS = 5_000;
/** Issue #18's targets: idle CPU ≤ 3% of a core and ≤ 0.5× sqs-consumer's; RSS ≤ 0.8× sqs-consumer's. */
const CPU_PERCENT_TARGET = 3;
const CPU_RATIO_TARGET = 0.5;
const RSS_RATIO_TARGET = 0.8;
const SAMPLE_INTERVAL_MS = 100;

interface Sizes {
  readonly queues: number;
  readonly windowMs: number;
  readonly samples: number;
}

interface Idling {
  /** Queues the server saw at least one receive for during the window. */
  readonly polled: number;
  /** Receives per queue per minute: lowest, median, highest. */
  readonly perMinute: readonly [number, number, number];
  /** CPU time over the window as a percentage of one core. */
  readonly cpuPercent: number;
  /** The same CPU time divided by the receives of the window, in ms. */
  readonly cpuMsPerReceive: number;
  readonly maxRssMb: number;
  readonly p50: number;
  readonly p99: number;
  readonly started: number;
}

export const manyQueues: Scenario = {
  name: "many-queues",
  async run({ server, quick, log }) {
    const sizes: Sizes = quick
      ? { queues: 200, windowMs: 30_000, samples: 50 }
      : { queues: 1_000, windowMs: 60_000, samples: 100 };
    const { endpoint } = server;
    const sqsd = await idle(server, "sqsd", sizes, (names, _, eventsFile) =>
      startSqsd(endpoint, { queues: names, work: "latency", eventsFile }),
    );
    log(describe("sqsd", sqsd));
    const peer = await idle(server, "consumer", sizes, (_, queueUrls, eventsFile) =>
      startPeer("sqs-consumer", { endpoint, queueUrls, work: "latency", eventsFile, mode: "message" }),
    );
    log(describe("sqs-consumer", peer));

    const peerName = `sqs-consumer (${whole(sizes.queues)} Consumers)`;
    const perMinute = (idling: Idling): string => idling.perMinute.map((rate) => rate.toFixed(1)).join(" / ");
    const minutes = sizes.windowMs / 60_000;
    return [
      {
        measure: `queues polled in a ${sizes.windowMs / 1000} s idle window, sqsd default pool`,
        value: `${whole(sqsd.polled)} of ${whole(sizes.queues)}`,
        detail:
          `receives per queue per minute min / median / max ${perMinute(sqsd)}; ` +
          `${peerName}: ${whole(peer.polled)}, ${perMinute(peer)}`,
        target: "every queue, ≈ 3/min",
        // A 20 s long poll gives 3 a minute; a window catches one more or one fewer at its edges.
        met:
          sqsd.polled === sizes.queues && sqsd.perMinute[0] >= 3 - 1 / minutes && sqsd.perMinute[2] <= 3 + 1 / minutes,
      },
      {
        measure: "idle CPU of the sqsd process",
        value: `${sqsd.cpuPercent.toFixed(2)}% of a core`,
        detail:
          `${sqsd.cpuMsPerReceive.toFixed(2)} ms CPU per receive; ` +
          `${peerName}: ${peer.cpuPercent.toFixed(2)}%, ${peer.cpuMsPerReceive.toFixed(2)} ms per receive`,
        target: `≤ ${CPU_PERCENT_TARGET}%`,
        met: sqsd.cpuPercent <= CPU_PERCENT_TARGET,
      },
      {
        measure: `idle CPU, sqsd ÷ ${peerName}`,
        value: ratio(sqsd.cpuPercent, peer.cpuPercent),
        detail: `${sqsd.cpuPercent.toFixed(2)}% vs ${peer.cpuPercent.toFixed(2)}% of a core`,
        target: `≤ ${CPU_RATIO_TARGET}×`,
        met: sqsd.cpuPercent / peer.cpuPercent <= CPU_RATIO_TARGET,
      },
      {
        measure: `RSS, peak, sqsd ÷ ${peerName}`,
        value: ratio(sqsd.maxRssMb, peer.maxRssMb),
        detail: `${whole(sqsd.maxRssMb)} vs ${whole(peer.maxRssMb)} MB`,
        target: `≤ ${RSS_RATIO_TARGET}×`,
        met: sqsd.maxRssMb / peer.maxRssMb <= RSS_RATIO_TARGET,
      },
      {
        measure: `send → handler start p99, ${sizes.samples} messages to random queues`,
        value: ms(sqsd.p99),
        detail:
          `p50 ${ms(sqsd.p50)}, ${sqsd.started}/${sizes.samples} started; ` +
          `${peerName}: p99 ${ms(peer.p99)}, p50 ${ms(peer.p50)}`,
        target: "≤ 50 ms",
        met: sqsd.p99 <= 50,
      },
    ] satisfies Row[];
  },
};

/** Runs one consumer over a fresh set of queues through the idle window and the latency samples. */
async function idle(
  server: BenchServer,
  tag: string,
  sizes: Sizes,
  start: (names: readonly string[], urls: readonly string[], eventsFile: string) => Promise<Consumer>,
): Promise<Idling> {
  const names = Array.from({ length: sizes.queues }, (_, index) => `many-${tag}-${String(index).padStart(4, "0")}`);
  const urls = await createQueues(server.client, names);
  const file = latencyFile();
  const consumer = await start(names, urls, file.path);
  try {
    await sleep(SETTLE_MS);
    const before = await server.requestsByQueue();
    const cpuBefore = processCpuMs(consumer.pid);
    const windowStart = performance.now();
    let maxRssMb = processRssMb(consumer.pid);
    while (performance.now() - windowStart < sizes.windowMs) {
      await sleep(Math.min(1_000, sizes.windowMs - (performance.now() - windowStart)));
      maxRssMb = Math.max(maxRssMb, processRssMb(consumer.pid));
    }
    const cpuMs = processCpuMs(consumer.pid) - cpuBefore;
    const cpuPercent = (cpuMs / (performance.now() - windowStart)) * 100;
    const after = await server.requestsByQueue();
    const receives = names
      .map((name) => (after[name]?.["ReceiveMessage"] ?? 0) - (before[name]?.["ReceiveMessage"] ?? 0))
      .sort((a, b) => a - b);
    const perMinute = (count: number): number => count / (sizes.windowMs / 60_000);

    await sendTimed(
      server.client,
      sizes.samples,
      SAMPLE_INTERVAL_MS,
      () => urls[Math.floor(Math.random() * urls.length)]!,
    );
    // A message for a queue nobody polls waits for a receive that may never come: give up after 20 s.
    const samples = await awaitSamples(file.read, sizes.samples, 20_000);
    maxRssMb = Math.max(maxRssMb, processRssMb(consumer.pid));
    return {
      polled: receives.filter((count) => count > 0).length,
      perMinute: [perMinute(receives[0]!), perMinute(receives[receives.length >> 1]!), perMinute(receives.at(-1)!)],
      cpuPercent,
      cpuMsPerReceive:
        cpuMs /
        Math.max(
          1,
          receives.reduce((total, count) => total + count, 0),
        ),
      maxRssMb,
      p50: percentile(samples, 50, sizes.samples),
      p99: percentile(samples, 99, sizes.samples),
      started: samples.length,
    };
  } finally {
    await consumer.stop();
    file.remove();
  }
}

const describe = (name: string, idling: Idling): string =>
  `${name}: ${idling.polled} polled, ${idling.perMinute.map((rate) => rate.toFixed(1)).join("/")} receives/min, ` +
  `CPU ${idling.cpuPercent.toFixed(2)}%, RSS ${idling.maxRssMb.toFixed(0)} MB, p50 ${ms(idling.p50)}, ` +
  `p99 ${ms(idling.p99)}, ${idling.started} started`;
