/**
 * Start-up: how soon a consumer started from nothing runs its first message, what it holds in memory once
 * idle, and how soon sqsd runs a message again after a handler crashed its only thread.
 *
 * - Start to consuming: one message waits in the queue; the clock starts just before the process is spawned
 *   and stops when the handler runs (the handler appends its wall clock to a file; bench/receivers/startup.ts
 *   for sqsd, bench/peers/sqs-consumer-start.mjs for sqs-consumer, plain JavaScript with no loader as its users
 *   run it). sqsd runs its default pool, one queue, a JSON config and a TypeScript receiver module.
 * - RSS idle: the same processes, 10 s after that first message.
 * - Compile cache: sqsd keeps Node's compile cache (bin/sqsd.js); the scenario gives it an empty one of its own,
 *   and runs one round first on it (a first start, cold) before the rounds it takes the medians of (warm).
 * - Thread replacement: sqsd with one thread; a message whose handler ends the thread (`process.exit()`), then,
 *   once the bench sees it, a message on another queue: the figure is from the crash to that handler's start,
 *   so it holds a send and a receive (a few ms) besides the replacement thread's start.
 *
 * Targets (issue #18): start to consuming ≤ 0.8 s, idle RSS ≤ 100 MB (sqs-consumer: 86 MB when measured).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { startPeer, startSqsd, type Consumer } from "../consumers.js";
import { createQueues, here, latencyFile, processCpuMs, processRssMb, sleep } from "../lib.js";
import { wallClockMs } from "../receivers/work.js";
import { ms, ratio, whole, type Row, type Scenario } from "../report.js";

const IDLE_MS = 10_000;
const START_TARGET_MS = 800;
const RSS_TARGET_MB = 100;
const receivers = [here("./receivers/startup.ts")];

interface Start {
  readonly firstMessageMs: number;
  /** CPU time (every thread) the process used until then: the work of starting, which load does not inflate. */
  readonly cpuMs: number;
  readonly rssMb: number;
}

export const startup: Scenario = {
  name: "startup",
  async run({ server, quick, log }) {
    const rounds = quick ? 2 : 3;
    const { client, endpoint } = server;
    const [crashUrl, afterUrl] = await createQueues(client, ["startup-crash", "startup-after-crash"]);
    const events = latencyFile();
    const send = (url: string, body: string) =>
      client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    /** Wall clock of the `count`th line for `queue` in the events file (waits for it, up to 60 s). */
    const event = async (queue: string, count: number): Promise<number> => {
      const deadline = performance.now() + 60_000;
      for (;;) {
        const times = readFileSync(events.path, "utf8")
          .split("\n")
          .filter((line) => line.startsWith(`${queue} `))
          .map((line) => Number(line.split(" ")[1]));
        if (times.length >= count) return times[count - 1]!;
        if (performance.now() > deadline) throw new Error(`no message handled on ${queue} within 60 s`);
        await sleep(2);
      }
    };
    const measure = async (queue: string, url: string, start: () => Promise<Consumer>): Promise<Start> => {
      writeFileSync(events.path, "");
      await send(url, "go");
      const began = wallClockMs();
      const consumer = await start();
      try {
        const firstMessageMs = (await event(queue, 1)) - began;
        const cpuMs = processCpuMs(consumer.pid);
        await sleep(IDLE_MS);
        return { firstMessageMs, cpuMs, rssMb: processRssMb(consumer.pid) };
      } finally {
        await consumer.stop();
      }
    };
    const sqsd: Start[] = [];
    const peer: Start[] = [];
    const replacements: number[] = [];
    let cold: Start | undefined;
    // The daemons this scenario starts inherit it (benchEnv passes the bench's environment on).
    const compileCache = mkdtempSync(join(tmpdir(), "sqsd-bench-compile-cache-"));
    const previousCompileCache = process.env["NODE_COMPILE_CACHE"];
    process.env["NODE_COMPILE_CACHE"] = compileCache;
    try {
      const [coldUrl] = await createQueues(client, ["startup-sqsd-cold"]);
      cold = await measure("startup-sqsd-cold", coldUrl!, () =>
        startSqsd(endpoint, { queues: ["startup-sqsd-cold"], work: "noop", receivers, eventsFile: events.path }),
      );
      log(
        `cold round (empty compile cache): first message sqsd ${ms(cold.firstMessageMs)}, idle RSS ${whole(cold.rssMb)} MB`,
      );
      for (let round = 1; round <= rounds; round += 1) {
        // Fresh queues each round: a stopped consumer's last long poll may live on at the server and take the
        // next round's message, which would then stay hidden for its visibility timeout.
        const sqsdQueue = `startup-sqsd-${round}`;
        const [sqsdUrl, peerUrl] = await createQueues(client, [sqsdQueue, `startup-peer-${round}`]);
        sqsd.push(
          await measure(sqsdQueue, sqsdUrl!, () =>
            startSqsd(endpoint, { queues: [sqsdQueue], work: "noop", receivers, eventsFile: events.path }),
          ),
        );
        peer.push(
          await measure("startup", peerUrl!, () =>
            startPeer("sqs-consumer-start.mjs", {
              endpoint,
              queueUrls: [peerUrl!],
              work: "noop",
              eventsFile: events.path,
            }),
          ),
        );
        log(
          `round ${round}: first message sqsd ${ms(sqsd.at(-1)!.firstMessageMs)}, sqs-consumer ${ms(peer.at(-1)!.firstMessageMs)}; ` +
            `idle RSS ${whole(sqsd.at(-1)!.rssMb)} vs ${whole(peer.at(-1)!.rssMb)} MB`,
        );
      }
      writeFileSync(events.path, "");
      const daemon = await startSqsd(endpoint, {
        queues: ["startup-crash", "startup-after-crash"],
        work: "noop",
        receivers,
        eventsFile: events.path,
        config: { pool: { threads: 1 } },
      });
      try {
        for (let round = 1; round <= rounds; round += 1) {
          await send(crashUrl!, "exit");
          const crashedAt = await event("startup-crash", round);
          await send(afterUrl!, "go");
          replacements.push((await event("startup-after-crash", round)) - crashedAt);
          log(`crash ${round}: next message ran ${ms(replacements.at(-1)!)} after the crash`);
        }
      } finally {
        await daemon.stop();
      }
    } finally {
      events.remove();
      if (previousCompileCache === undefined) delete process.env["NODE_COMPILE_CACHE"];
      else process.env["NODE_COMPILE_CACHE"] = previousCompileCache;
      rmSync(compileCache, { recursive: true, force: true });
    }
    if (!cold) throw new Error("no cold round");
    const median = (values: readonly number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const list = (values: readonly number[], format: (value: number) => string): string =>
      values.map(format).join(", ");
    const [sqsdStart, peerStart] = [
      median(sqsd.map((s) => s.firstMessageMs)),
      median(peer.map((s) => s.firstMessageMs)),
    ];
    const [sqsdRss, peerRss] = [median(sqsd.map((s) => s.rssMb)), median(peer.map((s) => s.rssMb))];
    return [
      {
        measure: "process start to first message handled, one queue (median), sqsd ÷ sqs-consumer",
        value: ratio(sqsdStart, peerStart),
        detail:
          `sqsd ${ms(sqsdStart)} (${list(
            sqsd.map((s) => s.firstMessageMs),
            ms,
          )}), ` +
          `sqs-consumer ${ms(peerStart)} (${list(
            peer.map((s) => s.firstMessageMs),
            ms,
          )})`,
        target: `sqsd ≤ ${ms(START_TARGET_MS)}`,
        met: sqsdStart <= START_TARGET_MS,
      },
      {
        measure: "CPU time the process used until then (median), sqsd ÷ sqs-consumer",
        value: ratio(median(sqsd.map((s) => s.cpuMs)), median(peer.map((s) => s.cpuMs))),
        detail:
          `sqsd ${ms(median(sqsd.map((s) => s.cpuMs)))} (${list(
            sqsd.map((s) => s.cpuMs),
            ms,
          )}), ` +
          `sqs-consumer ${ms(median(peer.map((s) => s.cpuMs)))} (${list(
            peer.map((s) => s.cpuMs),
            ms,
          )}); ` +
          "every thread's, read at the first message: the work of starting, which a busy machine does not inflate",
      },
      {
        measure: `RSS ${IDLE_MS / 1000} s after that message, idle, default pool (median), sqsd ÷ sqs-consumer`,
        value: ratio(sqsdRss, peerRss),
        detail:
          `sqsd ${whole(sqsdRss)} MB (${list(
            sqsd.map((s) => s.rssMb),
            whole,
          )}), ` +
          `sqs-consumer ${whole(peerRss)} MB (${list(
            peer.map((s) => s.rssMb),
            whole,
          )})`,
        target: `sqsd ≤ ${RSS_TARGET_MB} MB`,
        met: sqsdRss <= RSS_TARGET_MB,
      },
      {
        measure: "the same, a first start (empty compile cache): start to first message; CPU; idle RSS",
        value: ms(cold.firstMessageMs),
        detail: `CPU ${ms(cold.cpuMs)}, RSS ${whole(cold.rssMb)} MB; the rows above are starts with the cache warm`,
      },
      {
        measure: "a handler ends sqsd's only thread: crash to the next message's handler start (median)",
        value: ms(median(replacements)),
        detail: `${list(replacements, ms)}; holds a send and a receive besides the replacement thread's start`,
      },
    ] satisfies Row[];
  },
};
