/**
 * The bench's SQS server, in its own process so that it does not share an event loop with either consumer.
 * Forked with an IPC channel: it sends `{ endpoint }` once listening and answers `"requests"` with its
 * per-action request counts.
 */
import { startLocalSqs } from "../src/embedded.js";

const server = await startLocalSqs({ port: 0 });
process.send?.({ endpoint: server.endpoint });
process.on("message", (message) => {
  if (message === "requests") process.send?.({ requests: Object.fromEntries(server.requests) });
  if (message === "stop") void server.stop().then(() => process.exit(0));
});
