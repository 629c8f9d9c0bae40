import assert from "node:assert/strict";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import type { CachedQueueStatus } from "../../src/admin/queue-status.js";
import { MAX_EVENT_STREAMS } from "../../src/http/event-stream.js";
import { LiveSampler, type LiveSample, type LiveState } from "../../src/http/live-sampler.js";
import type { Metrics } from "../../src/http/metrics.js";
import { OperationsServer } from "../../src/http/server.js";
import { HTTP_SERVER_LIMITS } from "../../src/http/server-limits.js";
import { SupervisorEmitter } from "../../src/supervisor/events.js";
import type { Supervisor } from "../../src/supervisor/supervisor.js";
import { eventually } from "../helpers/eventually.js";
import { memoryLogger } from "../helpers/memory-logger.js";

const TOKEN = "stream-token";

/**
 * The dashboard's stream and routes on a real socket, with a real sampler over a stand-in supervisor (its
 * events are the real emitter): what a viewer receives, what a disconnect leaves behind, and the per-queue
 * control routes. Sampling is driven by hand (`tick()`), so nothing here waits for a timer.
 */
describe("the dashboard's event stream", () => {
  const calls: string[] = [];
  const events = new SupervisorEmitter();
  const paused = new Set<string>();
  const supervisor = {
    events,
    targets: [{ fullName: "ok", queue: { options: { weight: 2 } } }],
    pausedQueues: paused,
    health: () => ({
      state: "running",
      inFlight: 0,
      maxInFlight: 4,
      buffered: 0,
      processed: 0,
      pollers: [],
      queues: [{ queue: "ok", buffered: 1, running: 2 }],
      starved: [],
    }),
    pauseQueue: (name: string) => (calls.push(`pause ${name}`), paused.add(name), true),
    resumeQueue: (name: string) => (calls.push(`resume ${name}`), paused.delete(name)),
  } as unknown as Supervisor;
  let statusReads = 0;
  const status = {
    lastGood: undefined,
    get: () => {
      statusReads += 1;
      return Promise.reject(new Error("no SQS in this test"));
    },
  } as unknown as CachedQueueStatus;
  const sampler = new LiveSampler(
    {
      supervisor,
      pool: { threadCount: 2, threadReplacements: 0 },
      sqsRequests: new Map([["ReceiveMessage", 0]]),
      status,
      controls: { enabled: true, needsToken: true, reason: null },
      version: "test",
    },
    // Never on its own: the test calls tick().
    { intervalMs: 3_600_000 },
  );
  const server = new OperationsServer({
    http: {
      port: 0,
      host: "127.0.0.1",
      token: TOKEN,
      allowUnauthenticatedControl: false,
      statusCacheSeconds: 0,
      readyWhenPaused: false,
    },
    stallSeconds: 60,
    supervisor,
    metrics: {} as Metrics,
    status,
    logger: memoryLogger().logger,
    dashboard: sampler,
  });
  after(() => server.stop());

  /** Opens /events; resolves with the parsed events as they come, and a way to hang up. */
  async function openStream(base: string) {
    const received: { event: string; data: unknown }[] = [];
    let hangUp!: () => void;
    let ended = false;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${base}/events`, (response) => {
        assert.equal(response.headers["content-type"], "text/event-stream; charset=utf-8");
        let buffer = "";
        response.setEncoding("utf8").on("data", (chunk: string) => {
          buffer += chunk;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) received.push({ event, data: JSON.parse(data) });
          }
        });
        response.on("error", () => undefined);
        response.on("end", () => (ended = true));
        hangUp = () => req.destroy();
        resolve();
      });
      req.on("error", reject);
      req.end();
    });
    return { received, hangUp: () => hangUp(), ended: () => ended };
  }

  /** A GET's status, on a connection of its own (fetch could reuse one the server already counts). */
  function statusOf(url: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(url, { agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("sends a snapshot, then a sample per tick built from the supervisor's events", async () => {
    const base = await server.start();
    const stream = await openStream(base);
    await eventually(() => stream.received.find((entry) => entry.event === "snapshot"));
    const snapshot = stream.received[0]!.data as { history: LiveSample[]; state: LiveState };
    assert.equal(snapshot.state.daemon.threads, 2);
    assert.deepEqual(
      snapshot.state.queues.map(({ name, buffered, running, weight, paused: isPaused }) => ({
        name,
        buffered,
        running,
        weight,
        paused: isPaused,
      })),
      [{ name: "ok", buffered: 1, running: 2, weight: 2, paused: false }],
    );

    events.emit("settled", "ok", "ok", 10, undefined);
    events.emit("settled", "ok", "failed", 30, "handler");
    events.emit("failed", "ok", { name: "TypeError", message: "boom" });
    sampler.tick();
    const sample = await eventually(() => stream.received.find((entry) => entry.event === "sample"));
    const { sample: point, state } = sample.data as { sample: LiveSample; state: LiveState };
    assert.ok(point.processedPerSecond.ok > 0 && point.processedPerSecond.failed > 0);
    assert.deepEqual(point.durationMs, { p50: 10, p95: 30 });
    assert.equal(state.queues[0]?.lastError?.name, "TypeError");
    stream.hangUp();
  });

  it("streams an error's class and time only; its message, cut to 200 chars, needs the token", async () => {
    const base = await server.start();
    const secret = `arn:aws:sqs:eu-west-1:123456789012:q <img src=x onerror=alert(1)> ${"x".repeat(5_000)}`;
    events.emit("failed", "ok", { name: "RangeError", message: secret });
    const stream = await openStream(base);
    const snapshot = await eventually(() => stream.received.find((entry) => entry.event === "snapshot"));
    stream.hangUp();
    const { state } = snapshot.data as { state: LiveState };
    assert.equal(state.queues[0]?.lastError?.name, "RangeError");
    assert.doesNotMatch(JSON.stringify(snapshot.data), /123456789012/);

    assert.equal((await fetch(`${base}/errors`)).status, 401);
    assert.equal((await fetch(`${base}/errors`, { headers: { authorization: "Bearer wrong" } })).status, 401);
    const response = await fetch(`${base}/errors`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.equal(response.headers.get("content-type"), "application/json");
    const { errors } = JSON.parse(text) as { errors: Record<string, { name: string; message: string }> };
    assert.equal(errors["ok"]?.name, "RangeError");
    assert.equal(errors["ok"]?.message.length, 200);
    assert.ok(errors["ok"]?.message.startsWith("arn:aws:sqs:eu-west-1:123456789012:q <img"));
  });

  it("leaks nothing when viewers leave, and reads no queue counts while nobody watches", async () => {
    const base = await server.start();
    // Timers count too (those that keep the process alive; the unref'd heartbeat does not show here).
    const handles = () => process.getActiveResourcesInfo().length;
    const baseline = handles();
    const streams = await Promise.all(Array.from({ length: 5 }, () => openStream(base)));
    await eventually(() => streams.every((stream) => stream.received.length > 0));
    assert.ok(handles() > baseline);
    const readsBefore = statusReads;
    sampler.tick();
    assert.equal(statusReads, readsBefore + 1, "one status read per tick, however many viewers");

    for (const stream of streams) stream.hangUp();
    await eventually(() => handles() <= baseline, {
      message: () => `open handles: ${handles()}, baseline ${baseline}`,
    });
    // The server heard every close: the sampler has no listener left, so a tick reads nothing.
    await eventually(() => {
      const before = statusReads;
      sampler.tick();
      return statusReads === before;
    });
  });

  it("refuses streams beyond the limit with 503, and still answers probes on every other connection", async () => {
    const base = await server.start();
    const streams = await Promise.all(Array.from({ length: MAX_EVENT_STREAMS }, () => openStream(base)));
    await eventually(() => streams.every((stream) => stream.received.length > 0));
    assert.equal(await statusOf(`${base}/events`), 503);
    // Most of the server's own connections taken by idle clients (a few left for the ones earlier tests closed
    // and the server may not have counted out yet): without a budget of their own, streams would have had them.
    const { port } = new URL(base);
    const idle = await Promise.all(
      Array.from(
        { length: HTTP_SERVER_LIMITS.maxConnections - 8 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(Number(port), "127.0.0.1", () => resolve(socket));
            socket.on("error", reject);
          }),
      ),
    );
    try {
      assert.equal(await statusOf(`${base}/healthz`), 200);
    } finally {
      for (const socket of idle) socket.destroy();
      for (const stream of streams) stream.hangUp();
    }
  });

  it("pauses and resumes one queue, with the token; an unknown queue is a 404", async () => {
    const base = await server.start();
    const post = (path: string, token?: string) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
      });
    assert.equal((await post("/pause?queue=ok")).status, 401);
    assert.equal((await post("/pause?queue=nope", TOKEN)).status, 404);
    assert.deepEqual(await (await post("/pause?queue=ok", TOKEN)).json(), { paused: true, queue: "ok" });
    assert.deepEqual(await (await post("/resume?queue=ok", TOKEN)).json(), { resumed: true, queue: "ok" });
    assert.deepEqual(calls, ["pause ok", "resume ok"]);
  });

  it("serves the page with a content security policy that allows only its own files", async () => {
    const base = await server.start();
    for (const path of ["/", "/dashboard"]) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-security-policy") ?? "", /script-src 'self'/);
      assert.match(await response.text(), /<table id="queues">/);
    }
    for (const asset of ["/assets/dashboard.js", "/assets/dashboard.css", "/assets/uPlot.iife.min.js"])
      assert.equal((await fetch(`${base}${asset}`)).status, 200, asset);
  });

  // Last: it stops the server.
  it("ends every stream when the server stops", async () => {
    const base = await server.start();
    const streams = await Promise.all(Array.from({ length: 3 }, () => openStream(base)));
    await eventually(() => streams.every((stream) => stream.received.length > 0));
    await server.stop();
    await eventually(() => streams.every((stream) => stream.ended()), { message: "a stream outlived the server" });
  });
});
