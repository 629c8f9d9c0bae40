import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { setTimeout } from "node:timers/promises";
import { testConfig } from "../helpers/config.js";
import { SqsdProcess } from "../helpers/daemon.js";
import { SqsHttpProxy } from "../helpers/sqs-http-proxy.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqsProcess, sqsServers } from "../helpers/local-sqs.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { parsePrometheus, sampleValue } from "../helpers/prometheus.js";
import { Scenario } from "../helpers/scenario.js";

const TOKEN = "s3cret-token";

/** A poller as /status.json reports it. */
interface PollerStatus {
  state: string;
  lastPollAt?: number;
  receivesUnderWay: number;
  consecutiveErrors: number;
}

/** The daemon's HTTP endpoint and control signals, against a real daemon and SQS server. */
for (const server of sqsServers())
  describe(`the HTTP endpoint on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario | undefined;
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await scenario?.dispose();
      scenario = undefined;
    });

    async function startDaemon(overrides: Record<string, unknown> = {}, receivers = ["ok", "slow"]) {
      scenario = await Scenario.start({ server: server.name });
      const urls: Record<string, string> = {};
      for (const name of ["ok", "slow"]) urls[name] = await scenario.sqs.createQueue(name);
      const configPath = scenario.writeConfig(receivers, {
        http: { port: 0, token: TOKEN, statusCacheSeconds: 0 },
        ...overrides,
      });
      const daemon = scenario.spawn(["--config", configPath]);
      const listening = await daemon.waitForLog((record) => record.message === "http endpoint listening");
      await daemon.started();
      return { daemon, base: listening.url!, urls, scenario };
    }

    const get = (url: string) => fetch(url);
    const statusJson = async (base: string) =>
      (await (await get(`${base}/status.json`)).json()) as { supervisor: { pollers: PollerStatus[] } };
    const post = (url: string, token?: string) =>
      fetch(url, { method: "POST", headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

    it("serves django-sqs's status text and a JSON status", async () => {
      const { base, urls, scenario } = await startDaemon();
      await scenario.sqs.sendMany(urls["slow"]!, [JSON.stringify({ ms: 60_000 }), JSON.stringify({ ms: 60_000 })]);
      await scenario.sqs.send(urls["slow"]!, JSON.stringify({ ms: 60_000 }), { DelaySeconds: 600 });
      await eventually(async () => {
        const text = await (await get(`${base}/status`)).text();
        return /\nslow\t0\n/.test(text) && text;
      });
      const response = await get(`${base}/status`);
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
      const lines = (await response.text()).trimEnd().split("\n");
      // A read slower than 2 s (a loaded machine) serves the last good counts, and says so after the time.
      assert.match(lines[0] ?? "", /^Queue status as of \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z( \(stale: .*\))?$/);
      assert.deepEqual(lines.slice(1).sort(), ["ok\t0", "slow\t0"]);
      const json = (await (await get(`${base}/status.json`)).json()) as {
        supervisor: { state: string; inFlight: number };
        queues: { name: string; inFlight: number; delayed: number }[];
      };
      assert.equal(json.supervisor.state, "running");
      assert.equal(json.supervisor.inFlight, 2);
      assert.equal(json.queues.find((queue) => queue.name === "slow")?.inFlight, 2);
      assert.equal(json.queues.find((queue) => queue.name === "slow")?.delayed, 1);
    });

    it("reports a queue starved while SQS shows messages visible and its receives come back empty, and recovers", async () => {
      scenario = await Scenario.start({ server: server.name });
      const url = await scenario.sqs.createQueue("ok");
      // Receives come back empty after their wait while the messages stay visible: polling never goes quiet,
      // so only the starved-queue check (status reads showing visible messages, no start) can see it.
      const proxy = await SqsHttpProxy.start(scenario.sqs.endpoint);
      cleanups.push(() => proxy.stop());
      proxy.emptyReceives = true;
      const configPath = scenario.ws.writeConfig(
        testConfig({ endpoint: proxy.endpoint }, ["ok"], {
          http: { port: 0, statusCacheSeconds: 0 },
          stallSeconds: 2,
          defaults: { waitTimeSeconds: 1 },
        }),
      );
      const daemon = scenario.spawn(["--config", configPath]);
      const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
      await daemon.started();
      await scenario.sqs.sendMany(url, ["1", "2", "3"]);

      const unhealthy = await eventually(
        async () => {
          // A status read: what SQS reports visible is the check's evidence (metrics scrapes do the same).
          await (await fetch(`${base}/status.json`)).arrayBuffer();
          const response = await fetch(`${base}/healthz`);
          const body = (await response.json()) as {
            stalled: unknown[];
            starved: { queue: string; evidence: string; waitingMs: number }[];
          };
          return response.status === 503 && body;
        },
        { timeoutMs: 60_000 },
      );
      assert.deepEqual(
        unhealthy.starved.map((queue) => [queue.queue, queue.evidence]),
        [["ok", "visible"]],
      );
      assert.ok(unhealthy.starved[0]!.waitingMs > 2_000, "waited past stallSeconds");
      assert.deepEqual(unhealthy.stalled, [], "polling itself never went quiet");
      assert.ok(proxy.emptied > 0);
      const restarted = await daemon.waitForLog(
        (record) => record.message === "poller stalled; restarted it" && record.starved === true,
      );
      assert.equal(restarted.queue, "ok");
      assert.equal(scenario.ws.events().length, 0, "no handler ran");

      proxy.emptyReceives = false;
      await eventually(() => scenario!.ws.events().filter((event) => event.event === "handled").length === 3);
      await eventually(async () => {
        await (await fetch(`${base}/status.json`)).arrayBuffer();
        return (await fetch(`${base}/healthz`)).status === 200;
      });
      await eventually(
        async () => {
          const counts = await scenario!.sqs.counts(url);
          return counts.visible + counts.inFlight + counts.delayed === 0;
        },
        { message: "every message deleted" },
      );
    });

    it("serves Prometheus metrics whose counters match what was processed", async () => {
      const { base, urls, scenario, daemon } = await startDaemon();
      await scenario.sqs.sendMany(urls["ok"]!, ["1", "2", "3", "4", "5"]);
      await eventually(() => scenario.ws.events().length === 5);
      const samples = await eventually(async () => {
        const response = await get(`${base}/metrics`);
        assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
        const parsed = parsePrometheus(await response.text());
        return sampleValue(parsed, "sqsd_messages_deleted_total", { queue: "ok" }) === 5 && parsed;
      });
      // Should a message be received twice, say how: the handled ids with their receive counts, and what the
      // daemon logged that can explain a redelivery (a lost heartbeat, a give-back, a pause such as the
      // start-up compaction's while a receive's answer waited).
      const why = () =>
        JSON.stringify({
          handled: scenario.ws.events().map((event) => [event.id, event.receiveCount]),
          logs: daemon.logs
            .filter(
              (record) =>
                /warn|error/.test(String(record.level)) ||
                /redeliver|gave back|given back|visibility|compacted/.test(record.message),
            )
            .map((record) => [record.timestamp, record.level, record.message, record.messageId, record.durationMs]),
        });
      assert.equal(sampleValue(samples, "sqsd_messages_received_total", { queue: "ok" }), 5, why());
      assert.equal(sampleValue(samples, "sqsd_messages_succeeded_total", { queue: "ok" }), 5);
      assert.equal(sampleValue(samples, "sqsd_handler_duration_seconds_count", { queue: "ok" }), 5);
      assert.equal(sampleValue(samples, "sqsd_messages_failed_total", { queue: "ok" }), undefined);
      assert.ok((sampleValue(samples, "sqsd_sqs_requests_total", { action: "ReceiveMessage" }) ?? 0) >= 1);
      assert.ok((sampleValue(samples, "sqsd_sqs_requests_total", { action: "DeleteMessageBatch" }) ?? 0) >= 1);
      assert.equal(sampleValue(samples, "sqsd_pool_threads"), 2);
      assert.equal(sampleValue(samples, "sqsd_queue_messages", { queue: "ok", state: "visible" }), 0);
      assert.equal(sampleValue(samples, "sqsd_messages_in_flight"), 0);
    });

    it("enforces the bearer token on control routes", async () => {
      const { base } = await startDaemon();
      assert.equal((await post(`${base}/wake`)).status, 401);
      assert.equal((await post(`${base}/wake`, "wrong-token")).status, 401);
      assert.equal((await post(`${base}/pause`, "s3cret-tokeX")).status, 401);
      const woken = await post(`${base}/wake`, TOKEN);
      assert.equal(woken.status, 200);
      assert.deepEqual(await woken.json(), { woken: true });
      assert.equal((await get(`${base}/wake`)).status, 405);
      assert.equal((await get(`${base}/nope`)).status, 404);
    });

    it("pauses and resumes fetching over HTTP and with SIGTSTP/SIGCONT; /readyz follows", async () => {
      const { base, urls, scenario, daemon } = await startDaemon();
      assert.equal((await get(`${base}/readyz`)).status, 200);
      assert.equal((await post(`${base}/pause`, TOKEN)).status, 200);
      const paused = await get(`${base}/readyz`);
      assert.equal(paused.status, 503);
      assert.deepEqual(await paused.json(), { ready: false, state: "paused" });
      // A receive already waiting on SQS when the pause came still finishes (within the 1 s long-poll wait).
      const pollers = await eventually(async () => {
        const { pollers } = (await statusJson(base)).supervisor;
        return pollers.every((poller) => poller.receivesUnderWay === 0) && pollers;
      });
      assert.equal(pollers.length, 2);
      assert.ok(pollers.every((poller) => poller.state === "paused"));
      const receivesBefore = scenario.sqs.requests("ReceiveMessage");
      await scenario.sqs.send(urls["ok"]!, JSON.stringify("while paused"));
      // Nothing to wait on, since the point is that nothing happens. This config has no idle backoff, so a
      // poller that kept fetching would have a long poll open all the time, which would return the message as
      // soon as it arrived: two seconds, twice the long-poll wait, are ample for that to show.
      await setTimeout(2_000);
      assert.deepEqual(await scenario.sqs.counts(urls["ok"]!), { visible: 1, inFlight: 0, delayed: 0 });
      assert.equal(scenario.sqs.requests("ReceiveMessage"), receivesBefore, "no ReceiveMessage while paused");
      assert.equal((await post(`${base}/resume`, TOKEN)).status, 200);
      await eventually(() => scenario.ws.events().length === 1);
      assert.equal((await get(`${base}/readyz`)).status, 200);

      daemon.kill("SIGTSTP");
      await eventually(async () => (await get(`${base}/readyz`)).status === 503);
      assert.equal(daemon.child.exitCode, null, "SIGTSTP pauses fetching; it does not stop the process");
      daemon.kill("SIGCONT");
      await eventually(async () => (await get(`${base}/readyz`)).status === 200);
    });

    it("turns unready during a drain", async () => {
      const { base, urls, scenario, daemon } = await startDaemon();
      await scenario.sqs.send(urls["slow"]!, JSON.stringify({ ms: 3_000 }));
      await eventually(() => scenario.ws.events().some((event) => event.event === "started"));
      daemon.kill("SIGTERM");
      const during = await eventually(async () => {
        const response = await get(`${base}/readyz`);
        return response.status === 503 && ((await response.json()) as { state: string });
      });
      assert.equal(during.state, "draining");
      assert.equal((await daemon.exited).code, 0);
    });

    it("cuts an idle backoff short with POST /wake and with SIGUSR2", async () => {
      const idleBackoff = { initialMs: 120_000, maxMs: 120_000 };
      const { base, urls, scenario, daemon } = await startDaemon(
        { defaults: { waitTimeSeconds: 1, visibilityTimeoutSeconds: 2, idleBackoff } },
        ["ok"],
      );
      const receives = () => scenario.sqs.requests("ReceiveMessage");
      /**
       * Waits until the poller sleeps in its idle backoff, having made at least `count` receives (as the server
       * counts them), and returns its lastPollAt. The status has no field for the idle pause: a poller between
       * two receives also shows a lastPollAt, no receive under way and silentMs 0. Only an empty receive leads
       * to the idle pause, though, so the test counts receives to know that the last one came back empty;
       * consecutiveErrors 0 rules out the error backoff.
       */
      const idleAfterReceives = (count: number) =>
        eventually(async () => {
          // Counted before the status is read, so that "none under way" includes the receive counted.
          const made = receives();
          const poller = (await statusJson(base)).supervisor.pollers[0];
          return (
            made >= count &&
            poller?.state === "running" &&
            poller.receivesUnderWay === 0 &&
            poller.consecutiveErrors === 0 &&
            poller.lastPollAt
          );
        });
      // The idle backoff has equal jitter, so each pause lasts 60 to 120 s, and the watchdog leaves a poller
      // alone while it waits on purpose. The messages below are sent while the poller sleeps in such a pause,
      // so only a wake can get them handled within the 15 s deadline.
      const wakeDeadline = { timeoutMs: 15_000 };
      // The queue starts empty, so the first receive comes back empty.
      const firstIdlePollAt = await idleAfterReceives(1);
      const receivesBeforeWake = receives();
      await scenario.sqs.send(urls["ok"]!, JSON.stringify("wake up"));
      assert.equal((await post(`${base}/wake`, TOKEN)).status, 200);
      await eventually(() => scenario.ws.events().length === 1, wakeDeadline);

      // The first receive after the wake brought the message; the next one finds the queue empty (the message
      // is in flight or deleted by then) and sends the poller back to sleep.
      const secondIdlePollAt = await idleAfterReceives(receivesBeforeWake + 2);
      assert.ok(secondIdlePollAt > firstIdlePollAt);
      await scenario.sqs.send(urls["ok"]!, JSON.stringify("wake up again"));
      daemon.kill("SIGUSR2");
      await eventually(() => scenario.ws.events().length === 2, wakeDeadline);
    });
  });

describe("the liveness probe", () => {
  let server: TestSqsProcess | undefined;
  let daemon: SqsdProcess | undefined;
  let proxy: TcpProxy | undefined;
  const workspaces: { remove(): void }[] = [];
  afterEach(async () => {
    server?.child.kill("SIGCONT");
    await daemon?.dispose();
    await proxy?.stop();
    await server?.stop();
    for (const ws of workspaces.splice(0)) ws.remove();
    daemon = undefined;
    proxy = undefined;
    server = undefined;
  });

  const STALL_SECONDS = 2;
  const WAIT_SECONDS = 1;
  /** The documented bound: /healthz fails within stallSeconds + one long-poll wait of SQS going away. */
  const BOUND_MS = (STALL_SECONDS + WAIT_SECONDS) * 1000;
  /** Room for the moment between two receives in which no request is under way, and for the probe's trip. */
  const SLACK_MS = 2_000;

  /** A daemon consuming "ok" on `server` through `endpoint` (the server's own, or a proxy's). */
  async function startDaemon(endpoint: string): Promise<string> {
    const client = server!.client();
    const { CreateQueueCommand } = await import("@aws-sdk/client-sqs");
    await client.send(new CreateQueueCommand({ QueueName: "ok" }));
    client.destroy();
    const { Workspace } = await import("../helpers/workspace.js");
    const ws = new Workspace();
    workspaces.push(ws);
    const configPath = ws.writeConfig(
      testConfig({ endpoint }, ["ok"], {
        http: { port: 0, statusCacheSeconds: 1 },
        stallSeconds: STALL_SECONDS,
        defaults: { waitTimeSeconds: WAIT_SECONDS, visibilityTimeoutSeconds: 2 },
        // A prefetch of one: the receive hung on the dead endpoint holds the queue's whole room, so the lane
        // a watchdog restart starts waits for room, a deliberate wait that once read as progress.
        pool: { prefetch: 1 },
      }),
    );
    daemon = new SqsdProcess(["--config", configPath], { env: { ...server!.env, ...ws.env } });
    const listening = await daemon.waitForLog((record) => record.message === "http endpoint listening");
    await daemon.started();
    await eventually(async () => (await fetch(`${listening.url!}/healthz`)).status === 200);
    return listening.url!;
  }

  /**
   * Probes /healthz every 500 ms for 12 s from the moment SQS went away, as a kubelet would, and checks that
   * every probe past the bound failed: a watchdog restart of the poller, which happens every stallSeconds
   * meanwhile, must not count as progress.
   */
  async function probeOutage(base: string, wentAwayAt: number): Promise<void> {
    const late: { afterMs: number; status: number }[] = [];
    while (Date.now() - wentAwayAt < 12_000) {
      const sentAt = Date.now();
      const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
      const body = (await response.json()) as { stalled: { queue: string }[] };
      if (sentAt - wentAwayAt > BOUND_MS + SLACK_MS) {
        late.push({ afterMs: sentAt - wentAwayAt, status: response.status });
        if (response.status === 503)
          assert.deepEqual(
            body.stalled.map((poller) => poller.queue),
            ["ok"],
          );
      }
      await setTimeout(500);
    }
    assert.ok(late.length >= 5, `probes past the bound: ${late.length}`);
    assert.deepEqual(
      late.filter((probe) => probe.status !== 503),
      [],
      "every probe past stallSeconds + one wait failed",
    );
    assert.ok(daemon!.logsWith("poller stalled; restarted it").length > 0, "the watchdog restarted the poller");
  }

  it("fails while the SQS server is frozen (SIGSTOP), on every probe past the bound, and recovers after", async () => {
    server = await TestSqsProcess.start();
    const base = await startDaemon(server.endpoint);
    const scrape = async (): Promise<{ status: number; body: string }> => {
      // Bounded, so that a scrape waiting on the frozen server fails here rather than hanging the test.
      const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(20_000) });
      return { status: response.status, body: await response.text() };
    };
    const before = await scrape();
    assert.equal(
      sampleValue(parsePrometheus(before.body), "sqsd_queue_messages", { queue: "ok", state: "visible" }),
      0,
    );

    server.child.kill("SIGSTOP");
    await probeOutage(base, Date.now());
    // Metrics still answer while SQS does not: the queue counts are the last good ones, and say how old.
    const during = await scrape();
    assert.equal(during.status, 200);
    const samples = parsePrometheus(during.body);
    assert.equal(sampleValue(samples, "sqsd_queue_messages", { queue: "ok", state: "visible" }), 0);
    assert.ok(sampleValue(samples, "sqsd_queue_status_age_seconds")! > 1, "the counts are marked stale");

    server.child.kill("SIGCONT");
    await eventually(async () => (await fetch(`${base}/healthz`)).status === 200, { timeoutMs: 30_000 });
  });

  it("fails while the SQS endpoint refuses connections, on every probe past the bound, and recovers after", async () => {
    server = await TestSqsProcess.start();
    proxy = await TcpProxy.start(server.endpoint);
    const base = await startDaemon(proxy.endpoint);

    proxy.cut();
    await probeOutage(base, Date.now());

    proxy.restore();
    await eventually(async () => (await fetch(`${base}/healthz`)).status === 200, { timeoutMs: 60_000 });
  });
});
