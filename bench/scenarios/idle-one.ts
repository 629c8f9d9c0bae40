/**
 * One idle queue: sqsd with its default pool (no `pool` settings at all, as a new user starts it) on one empty
 * queue, then sqs-consumer (one Consumer, handleMessage) on another; each process's RSS 10 s after it said it
 * was ready, and how many worker threads sqsd runs then (threads named `WorkerThread` in /proc/PID/task: its
 * pool threads, and any other Worker it started).
 *
 * Target (issue #18): sqsd ≤ 100 MB (sqs-consumer measured 86 MB there).
 */
import { readdirSync, readFileSync } from "node:fs";
import { startPeer, startSqsd, type Consumer } from "../consumers.js";
import { createQueues, processRssMb, sleep } from "../lib.js";
import { ratio, whole, type Row, type Scenario } from "../report.js";

const IDLE_MS = 10_000;
const RSS_TARGET_MB = 100;

export const idleOne: Scenario = {
  name: "idle-one",
  async run({ server, log }) {
    const [, peerUrl] = await createQueues(server.client, ["idle-one-sqsd", "idle-one-consumer"]);
    const sqsd = await idle(() => startSqsd(server.endpoint, { queues: ["idle-one-sqsd"], work: "noop" }));
    log(`sqsd: ${sqsd.rssMb.toFixed(0)} MB, ${sqsd.workerThreads} worker threads`);
    const peer = await idle(() =>
      startPeer("sqs-consumer", { endpoint: server.endpoint, queueUrls: [peerUrl!], work: "noop", mode: "message" }),
    );
    log(`sqs-consumer: ${peer.rssMb.toFixed(0)} MB`);
    return [
      {
        measure: `RSS ${IDLE_MS / 1000} s after ready, one idle queue, sqsd default pool`,
        value: `${whole(sqsd.rssMb)} MB`,
        detail:
          `sqs-consumer (one Consumer) ${whole(peer.rssMb)} MB, sqsd ÷ sqs-consumer ${ratio(sqsd.rssMb, peer.rssMb)}; ` +
          `sqsd ran ${sqsd.workerThreads} worker threads`,
        target: `≤ ${RSS_TARGET_MB} MB`,
        met: sqsd.rssMb <= RSS_TARGET_MB,
      },
    ] satisfies Row[];
  },
};

async function idle(start: () => Promise<Consumer>): Promise<{ rssMb: number; workerThreads: number }> {
  const consumer = await start();
  try {
    await sleep(IDLE_MS);
    return { rssMb: processRssMb(consumer.pid), workerThreads: workerThreads(consumer.pid) };
  } finally {
    await consumer.stop();
  }
}

/** Threads of a process that Node names `WorkerThread`: worker_threads Workers (pool threads among them). */
function workerThreads(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).filter((tid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim() === "WorkerThread";
    } catch {
      return false;
    }
  }).length;
}
