import assert from "node:assert/strict";
import { connect } from "node:net";
import { afterEach, describe, it } from "node:test";
import type { LatestQueueStatus } from "../../src/admin/queue-status.js";
import { SqsRequestError } from "../../src/errors.js";
import type { OperationsServer } from "../../src/http/server.js";
import { eventually } from "../helpers/eventually.js";
import { startOperationsServer, type TestServerOptions } from "../helpers/operations-server.js";

const ACCOUNT_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/shop__orders";

/** Writes `text` on a fresh connection and resolves with all it gets back once the server closes it. */
function rawExchange(base: string, text: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    let received = "";
    const socket = connect(Number(port), hostname, () => socket.write(text));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" ? undefined : reject(error)));
    socket.on("close", () => resolve(received));
  });
}

/** Status pages when SQS is slow or failing, and the server's own limits, on a real HTTP server. */
describe("the HTTP server's status pages and limits", () => {
  let server: OperationsServer | undefined;
  afterEach(() => server?.stop());

  async function start(options: TestServerOptions) {
    const started = await startOperationsServer(options);
    server = started.server;
    return started;
  }

  it("serves the last counts with their age when SQS did not answer in time", async () => {
    const asOf = new Date(Date.now() - 42_000);
    const queue = { name: "orders", exists: true, visible: 7, inFlight: 1, delayed: 0 };
    const counts: LatestQueueStatus = {
      asOf,
      stale: true,
      queues: [{ ...queue, deadLetter: undefined, visibilityTimeoutSeconds: 30 }],
    };
    const latest = () => Promise.resolve(counts);
    const { base } = await start({ latest });
    const json = await fetch(`${base}/status.json`);
    assert.equal(json.status, 200);
    const body = (await json.json()) as { asOf: string; ageSeconds: number; stale: boolean; queues: unknown[] };
    assert.equal(body.asOf, asOf.toISOString());
    assert.equal(body.stale, true);
    assert.ok(body.ageSeconds >= 42, `ageSeconds ${body.ageSeconds}`);
    assert.equal(body.queues.length, 1);
    const text = await fetch(`${base}/status`);
    assert.equal(text.status, 200);
    const lines = (await text.text()).trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^Queue status as of \S+Z \(stale: \d+(\.\d)? s old; SQS did not answer\)$/);
    assert.deepEqual(lines.slice(1), ["orders\t7"]);
  });

  it("says the counts are unavailable, with 503, when none were ever read", async () => {
    const { base } = await start({ latest: () => Promise.resolve(undefined) });
    const json = await fetch(`${base}/status.json`);
    assert.equal(json.status, 503);
    const body = (await json.json()) as { error: string; queues: unknown; supervisor: { state: string } };
    assert.match(body.error, /unavailable/);
    assert.equal(body.queues, null);
    assert.equal(body.supervisor.state, "running", "the supervisor's state is served all the same");
    const text = await fetch(`${base}/status`);
    assert.equal(text.status, 503);
    assert.match(await text.text(), /^Queue status unavailable: /);
  });

  it("answers a failed request with 500 and no internal detail (queue URLs hold the AWS account ID)", async () => {
    const failure = new SqsRequestError("GetQueueAttributes", new Error("boom"), { queueUrl: ACCOUNT_URL });
    const { base, records } = await start({ latest: () => Promise.reject(failure) });
    for (const path of ["/status", "/status.json"]) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 500);
      const body = await response.text();
      assert.ok(!body.includes("123456789012") && !body.includes("amazonaws"), body);
    }
    assert.ok(
      records.some((record) => record.message === "http request failed"),
      "the detail goes to the log",
    );
  });

  it("closes connections beyond its limit as they arrive, and logs it", async () => {
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let waiting = 0;
    const latest = async () => {
      waiting += 1;
      await released;
      return undefined;
    };
    const { base, records } = await start({ latest, limits: { maxConnections: 2 } });
    // Two status requests hold the two connections allowed, each on a connection of its own.
    const held = [1, 2].map(() => fetch(`${base}/status.json`, { signal: AbortSignal.timeout(20_000) }));
    await eventually(() => waiting === 2);
    const third = await rawExchange(base, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(third, "", "the third connection was closed unanswered");
    release?.();
    for (const response of await Promise.all(held)) {
      assert.equal(response.status, 503);
      await response.arrayBuffer();
    }
    const dropped = records.filter((record) => record.message === "http connection refused: too many open connections");
    assert.equal(dropped.length, 1);
  });

  it("cuts off a client that never finishes its request head", async () => {
    const { base } = await start({ limits: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 } });
    // The deadline only keeps a missing limit from hanging the test: Node's own default would wait 60 s or more.
    const answer = await eventually(() => rawExchange(base, "GET /healthz HTTP/1.1\r\nHost: x\r\n"), {
      timeoutMs: 20_000,
    });
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });
});
