import { receiver } from "sqsd";
import { workFromEnv } from "./work.js";

/**
 * The bench's sqsd receivers: one per queue named in `BENCH_QUEUES` (comma-separated), each running the
 * `BENCH_WORK` handler (see work.ts). The bench sets both, so one module serves every scenario; the daemon and
 * its worker threads import it with the same environment, and so register the same queues.
 */
const work = workFromEnv();
for (const queue of (process.env["BENCH_QUEUES"] ?? "").split(",").filter(Boolean)) {
  receiver<string>(queue, { codec: "raw" }, (message) => work(message.body));
}
