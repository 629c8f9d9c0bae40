/**
 * The bench's SQS server, in its own process so that it shares an event loop with no consumer under test.
 * Forked with an IPC channel: it sends `{ endpoint }` once listening, answers `"requestsByQueue"` with the
 * requests it has served by queue and action, and stops on `"stop"`.
 */
import { startLocalSqs } from "../src/embedded.js";

const server = await startLocalSqs({ port: 0 });
process.send?.({ endpoint: server.endpoint });
process.on("message", (message) => {
  if (message === "requestsByQueue") {
    const byQueue = Object.fromEntries(
      [...server.requestsByQueue].map(([queue, counts]) => [queue, Object.fromEntries(counts)]),
    );
    process.send?.({ requestsByQueue: byQueue });
  }
  if (message === "stop") void server.stop().then(() => process.exit(0));
});
