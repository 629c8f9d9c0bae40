/**
 * A local SQS server in a process of its own, for tests that must freeze the server (SIGSTOP) without
 * freezing themselves. Forked with IPC by TestSqsProcess; sends `{ endpoint }` once listening.
 */
import { startLocalSqs } from "../../src/embedded.js";

const server = await startLocalSqs({ port: 0 });
process.send?.({ endpoint: server.endpoint });
process.on("disconnect", () => void server.stop().then(() => process.exit(0)));
