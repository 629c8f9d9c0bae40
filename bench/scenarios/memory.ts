/**
 * Memory under a deep backlog: 100,000 messages queued, then sqsd with 2 threads × 8 tasks and a 50 ms
 * handler (slow enough that the backlog stays deep all run, fast enough that some 19,000 messages pass
 * through the daemon in a minute, so a per-message leak would show) for 60 s. `prefetch: 20` (two receives'
 * worth) with the default `maxBuffered` (100) bounds the buffer at 20: a deep queue keeps it full, so the run
 * shows whether the bound holds. Every second the bench samples the process's RSS and, from /metrics,
 * messages running and buffered.
 *
 * Targets: RSS flat; running never above `sqsd_max_in_flight`; buffered never above the prefetch. RSS
 * saws up and down by tens of MB as the heap grows and is collected, which swings a least-squares slope over
 * a minute either way by more than a leak would move it; so the slope is reported, but "flat" is judged by
 * the floor (the lowest sample: the heap just after a collection) of the last third of the run against that
 * of the first third after a 10 s warm-up: it may rise by at most 10 MB, 4% of the 250 MB budget.
 */
import { startSqsd } from "../consumers.js";
import { createQueues, fillQueue, processResidentMb, queueDepth, sleep, type BenchServer } from "../lib.js";
import { whole, type Row, type Scenario, type ScenarioContext } from "../report.js";

const FLOOR_RISE_MB = 10;
const PREFETCH = 20;

interface Sample {
  readonly second: number;
  readonly rssMb: number;
  /** Of the RSS: anonymous pages (heaps, malloc, stacks) and file pages (the binary and libraries), in MB. */
  readonly anonMb: number;
  readonly fileMb: number;
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Undefined when this sqsd has no `sqsd_messages_buffered` metric. */
  readonly buffered: number | undefined;
  readonly processed: number;
  /** The supervisor's V8 heap in use (prom-client's default metric; the pool threads' heaps are not in it). */
  readonly heapUsedMb: number;
  /** The supervisor's V8 heap as reserved from the system, and its young generation (new space) within it. */
  readonly heapTotalMb: number;
  readonly newSpaceMb: number;
}

/** One run of sqsd under a backlog, as the memory and soak scenarios make it. */
export interface BacklogRun {
  readonly queue: string;
  readonly messages: number;
  readonly seconds: number;
  /** Samples before this are left out of the floors and the slope. */
  readonly warmUpSeconds: number;
  /** The handlers' work (bench/receivers/work.ts) and how the table describes it. */
  readonly work: string;
  readonly workDetail: string;
  /**
   * Tops the queue up to `messages` every few seconds, so a run longer than the backlog lasts keeps it deep
   * (an emptied queue would let the heap shrink and hide a leak in the last third).
   */
  readonly keepQueued: boolean;
}

export const memory: Scenario = {
  name: "memory",
  run: (context) =>
    backlogMemory(context, {
      queue: "memory-backlog",
      messages: context.quick ? 20_000 : 100_000,
      seconds: context.quick ? 20 : 60,
      warmUpSeconds: 10,
      work: "sleep:50",
      workDetail: "50 ms handler",
      keepQueued: false,
    }),
};

/**
 * Fills a queue, runs sqsd (2 threads × 8 tasks, prefetch {@link PREFETCH}) on it for `run.seconds`, sampling
 * its RSS and metrics every second, and returns the rows: the floor's rise, messages running and buffered.
 */
export async function backlogMemory({ server, log }: ScenarioContext, run: BacklogRun): Promise<Row[]> {
  const { messages, seconds } = run;
  const [url] = await createQueues(server.client, [run.queue]);
  const filling = performance.now();
  await fillQueue(server.client, url!, messages);
  log(`queued ${whole(messages)} in ${((performance.now() - filling) / 1000).toFixed(1)} s; sampling for ${seconds} s`);
  const daemon = await startSqsd(server.endpoint, {
    queues: [run.queue],
    work: run.work,
    config: { pool: { threads: 2, tasksPerThread: 8, prefetch: PREFETCH }, http: { port: 0 } },
  });
  const samples: Sample[] = [];
  const topUp = { stop: false, sent: 0 };
  const toppingUp = run.keepQueued ? keepQueued(server, url!, messages, topUp) : Promise.resolve();
  try {
    const started = performance.now();
    for (let second = 1; second <= seconds; second += 1) {
      await sleep(Math.max(0, started + second * 1_000 - performance.now()));
      const { rss, anon, file } = processResidentMb(daemon.pid);
      samples.push({ second, rssMb: rss, anonMb: anon, fileMb: file, ...(await readMetrics(daemon.httpUrl!)) });
      if (second % 60 === 0) log(`${second} s: RSS ${samples.at(-1)!.rssMb.toFixed(0)} MB`);
    }
  } finally {
    topUp.stop = true;
    await toppingUp;
    await daemon.stop();
  }

  const rss = samples.map((sample) => sample.rssMb);
  const warm = samples.filter((sample) => sample.second > run.warmUpSeconds);
  const slope = slopePerMinute(warm);
  const third = Math.floor(warm.length / 3);
  const floor = (part: readonly Sample[], of: (sample: Sample) => number = (sample) => sample.rssMb): number =>
    Math.min(...part.map(of));
  const [firstFloor, lastFloor] = [floor(warm.slice(0, third)), floor(warm.slice(-third))];
  // The same floors of the supervisor's heap: a rise there is a leak in the supervisor, while RSS can also
  // rise with heap limits and allocator arenas that grow once and are kept.
  const heapUsed = (sample: Sample): number => sample.heapUsedMb;
  const [firstHeap, lastHeap] = [floor(warm.slice(0, third), heapUsed), floor(warm.slice(-third), heapUsed)];
  const maxRunning = Math.max(...samples.map((sample) => sample.inFlight));
  const limit = Math.min(...samples.map((sample) => sample.maxInFlight));
  const buffered = samples.map((sample) => sample.buffered).filter((value) => value !== undefined);
  const processed = samples.at(-1)?.processed ?? 0;
  log(`RSS ${rss.map((value) => value.toFixed(0)).join(" ")} MB; running at most ${maxRunning} of ${limit}`);
  const queued = run.keepQueued
    ? `${whole(messages)} queued and kept there (${whole(topUp.sent)} more sent)`
    : `${whole(messages)} queued`;
  // What the last third's floor is made of, read at that sample: a rise of anonymous pages with the
  // supervisor's heap flat is the threads' heaps or malloc; file pages barely move with load.
  const lowest = warm.slice(-third).reduce((low, sample) => (sample.rssMb < low.rssMb ? sample : low));
  return [
    {
      measure: `RSS over ${seconds} s, ${queued}: rise of the floor (lowest sample), first to last third`,
      value: `${signed(lastFloor - firstFloor)} MB`,
      detail:
        `first ${whole(rss[0]!)}, last ${whole(rss.at(-1)!)}, max ${whole(Math.max(...rss))} MB; ` +
        `slope ${signed(slope)} MB/min; floor ${whole(firstFloor)} → ${whole(lastFloor)} MB ` +
        `(after a ${run.warmUpSeconds} s warm-up); supervisor heap used, floor ${firstHeap.toFixed(1)} → ` +
        `${lastHeap.toFixed(1)} MB; ${whole(processed)} processed (${run.workDetail}, 2 threads × 8)`,
      target: `flat: ≤ ${FLOOR_RISE_MB} MB`,
      met: lastFloor - firstFloor <= FLOOR_RISE_MB,
    },
    {
      measure: "the last third's RSS floor: anonymous + file pages; of the anonymous, the supervisor's V8 heap",
      value: `${whole(lowest.anonMb)} + ${whole(lowest.fileMb)} MB`,
      detail:
        `at ${lowest.second} s: supervisor heap ${whole(lowest.heapTotalMb)} MB reserved (young generation ` +
        `${whole(lowest.newSpaceMb)} MB, ${whole(lowest.heapUsedMb)} MB in use); the rest of the anonymous pages ` +
        `are the pool threads' heaps, malloc and stacks; young generation at most ` +
        `${whole(Math.max(...samples.map((sample) => sample.newSpaceMb)))} MB over the run`,
    },
    {
      measure: "messages running (sqsd_messages_in_flight), sampled every second",
      value: `max ${maxRunning}`,
      detail: `limit sqsd_max_in_flight = ${limit}`,
      target: `≤ ${limit}`,
      met: maxRunning <= limit,
    },
    buffered.length > 0
      ? {
          measure: "messages buffered (sqsd_messages_buffered), sampled every second",
          value: `max ${Math.max(...buffered)}`,
          detail: `prefetch ${PREFETCH}; running + buffered at most ${Math.max(...samples.map((sample) => sample.inFlight + (sample.buffered ?? 0)))}`,
          target: `≤ ${PREFETCH}`,
          met: Math.max(...buffered) <= PREFETCH,
        }
      : {
          measure: "messages buffered",
          value: "not reported",
          detail: "this sqsd has no sqsd_messages_buffered metric; only messages running are checked",
        },
  ];
}

/** Every 5 s, sends what the queue lacks of `depth`, until `state.stop`. */
async function keepQueued(
  server: BenchServer,
  url: string,
  depth: number,
  state: { stop: boolean; sent: number },
): Promise<void> {
  while (!state.stop) {
    await sleep(5_000);
    const missing = depth - (await queueDepth(server.client, url));
    if (missing <= 0 || state.stop) continue;
    await fillQueue(server.client, url, missing);
    state.sent += missing;
  }
}

async function readMetrics(baseUrl: string): Promise<Omit<Sample, "second" | "rssMb" | "anonMb" | "fileMb">> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  // A metric's value summed over its label sets; undefined when the daemon does not export it at all.
  const sum = (name: string): number | undefined => {
    const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].map((match) =>
      Number(match[1]),
    );
    return text.includes(`# TYPE ${name} `) ? values.reduce((total, value) => total + value, 0) : undefined;
  };
  return {
    inFlight: sum("sqsd_messages_in_flight") ?? 0,
    maxInFlight: sum("sqsd_max_in_flight") ?? 0,
    buffered: sum("sqsd_messages_buffered"),
    processed: sum("sqsd_messages_succeeded_total") ?? 0,
    heapUsedMb: (sum("sqsd_nodejs_heap_size_used_bytes") ?? 0) / 1e6,
    heapTotalMb: (sum("sqsd_nodejs_heap_size_total_bytes") ?? 0) / 1e6,
    newSpaceMb: Number(/^sqsd_nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)$/m.exec(text)?.[1] ?? 0) / 1e6,
  };
}

const signed = (value: number): string => `${value >= 0 ? "+" : ""}${value.toFixed(1)}`;

/** Least-squares slope of RSS against time, in MB a minute. */
function slopePerMinute(samples: readonly Sample[]): number {
  const n = samples.length;
  const meanX = samples.reduce((total, sample) => total + sample.second, 0) / n;
  const meanY = samples.reduce((total, sample) => total + sample.rssMb, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const sample of samples) {
    covariance += (sample.second - meanX) * (sample.rssMb - meanY);
    variance += (sample.second - meanX) ** 2;
  }
  return (covariance / variance) * 60;
}
