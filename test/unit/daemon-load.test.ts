import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, it } from "node:test";
import { readDaemonLoad } from "../../src/commands/daemon-load.js";
import type { ResolvedConfig } from "../../src/config/types.js";

/** A stand-in daemon endpoint answering /status.json with this status and body. */
async function endpoint(status: number, body: unknown): Promise<{ server: Server; port: number }> {
  const server = createServer((_, response) => {
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const http = (port: number): ResolvedConfig["http"] => ({
  host: "127.0.0.1",
  port,
  token: undefined,
  statusCacheSeconds: 30,
  allowUnauthenticatedControl: false,
  readyWhenPaused: false,
});

describe("readDaemonLoad", () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((server) => server.close()));

  const supervisor = { supervisor: { queues: [{ queue: "jobs", buffered: 3, running: 2 }] } };

  it("reads each queue's buffered and running messages", async () => {
    const { server, port } = await endpoint(200, supervisor);
    servers.push(server);
    assert.deepEqual([...(await readDaemonLoad(http(port)))!], [["jobs", { buffered: 3, running: 2 }]]);
  });

  it("still reads them when the daemon has no queue counts from SQS yet (503 with queues: null)", async () => {
    const { server, port } = await endpoint(503, { ...supervisor, queues: null });
    servers.push(server);
    assert.deepEqual([...(await readDaemonLoad(http(port)))!], [["jobs", { buffered: 3, running: 2 }]]);
  });

  it("is undefined for other failures, and when no daemon answers", async () => {
    const { server, port } = await endpoint(500, supervisor);
    servers.push(server);
    assert.equal(await readDaemonLoad(http(port)), undefined);
    server.close();
    assert.equal(await readDaemonLoad(http(port)), undefined);
  });
});
