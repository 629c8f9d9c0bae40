import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { testConfig } from "../helpers/config.js";
import { SqsdProcess } from "../helpers/daemon.js";
import { DeliveryLog, worstExcess } from "../helpers/delivery-log.js";
import { eventually } from "../helpers/eventually.js";
import { TEST_CREDENTIALS, TEST_REGION, TestSqs } from "../helpers/local-sqs.js";
import { RedisServer } from "../helpers/store-servers.js";
import { Workspace } from "../helpers/workspace.js";

const PER_SECOND = 5;
const BURST = 5;
/** How long the limit is watched under a backlog, as the issue asks. */
const WATCH_MS = 20_000;

/** A daemon on `receivers`, talking to SQS through `proxy`. */
function daemonThrough(
  ws: Workspace,
  proxy: DeliveryLog,
  receivers: string[],
  overrides: Record<string, unknown> = {},
  configName = "sqs.config.json",
): SqsdProcess {
  const configPath = ws.writeConfig(
    testConfig({ endpoint: proxy.endpoint }, receivers, { http: { port: 0, statusCacheSeconds: 0 }, ...overrides }),
    configName,
  );
  return new SqsdProcess(["--config", configPath], {
    cwd: ws.dir,
    env: {
      ...ws.env,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: TEST_REGION,
    },
  });
}

describe("rate limits, counted at the server", () => {
  let sqs: TestSqs | undefined;
  let proxy: DeliveryLog | undefined;
  let daemon: SqsdProcess | undefined;
  let ws: Workspace | undefined;
  afterEach(async () => {
    await daemon?.dispose();
    await proxy?.stop();
    await sqs?.stop();
    ws?.remove();
  });

  it("under a backlog, a queue at perSecond 5 receives at most 5 a second plus the burst for 20 s, and no message before its token", async (t) => {
    sqs = await TestSqs.start();
    proxy = await DeliveryLog.start(sqs.endpoint);
    const url = await sqs.createQueue("rate-limited");
    // More than the 20 s can let through (5 × 20 + 5), so the queue has a backlog throughout.
    await sqs.sendMany(
      url,
      Array.from({ length: 160 }, (_, i) => JSON.stringify({ i })),
    );
    ws = new Workspace();
    // The bucket starts full when the daemon starts, and not before: every window is counted from here.
    const startedAt = Date.now();
    daemon = daemonThrough(ws, proxy, ["rate-limited"]);
    const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
    await daemon.started();
    // A reached limit shows per queue in /status.json and as a metric.
    await eventually(
      async () => {
        const status = (await (await fetch(`${base}/status.json`)).json()) as {
          supervisor: { pollers: { queue: string; rateLimit?: { limited: boolean; perSecond: number } }[] };
        };
        const limit = status.supervisor.pollers.find((p) => p.queue === "rate-limited")?.rateLimit;
        return limit?.limited === true && limit.perSecond === PER_SECOND;
      },
      { timeoutMs: 30_000, message: "/status.json never showed the queue rate-limited" },
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /sqsd_rate_limited_total\{queue="rate-limited",cause="limit"\} [1-9]/);
    const first = await eventually(() => proxy!.received("rate-limited")[0], {
      timeoutMs: 30_000,
      message: "no message was received",
    });
    await eventually(
      () => proxy!.received("rate-limited").some((delivery) => delivery.answeredAt >= first.answeredAt + WATCH_MS),
      { timeoutMs: WATCH_MS + 30_000, message: () => `received ${proxy!.count("rate-limited")} messages` },
    );
    const watched = proxy.received("rate-limited").filter((d) => d.answeredAt <= first.answeredAt + WATCH_MS);
    const total = watched.reduce((sum, delivery) => sum + delivery.count, 0);
    const worst = worstExcess(watched, PER_SECOND, BURST, startedAt);
    t.diagnostic(`${total} received in ${WATCH_MS} ms; tightest window: ${worst.count} in ${worst.to - worst.from} ms`);
    assert.ok(
      worst.excess <= 1e-6,
      `${worst.count} messages left SQS in ${worst.to - worst.from} ms, more than ${PER_SECOND}/s + ${BURST}`,
    );
    assert.ok(total <= (PER_SECOND * WATCH_MS) / 1000 + BURST, `${total} messages in ${WATCH_MS} ms`);
    // It is a limit, not a stop: the queue kept receiving at its rate (loosely: the machine is shared).
    assert.ok(total >= (PER_SECOND * WATCH_MS) / 1000 / 2, `only ${total} messages in ${WATCH_MS} ms`);
    // Asked for no more than the tokens: nothing received waits for a token, so none is run late.
    assert.ok(watched.every((delivery) => delivery.maxMessages <= BURST));
  });

  it("a RateLimited throw stops the queue's receives for its retry-after, and the message runs once afterwards", async () => {
    sqs = await TestSqs.start();
    proxy = await DeliveryLog.start(sqs.endpoint);
    const url = await sqs.createQueue("slows-down");
    ws = new Workspace();
    daemon = daemonThrough(ws, proxy, ["slows-down"]);
    await daemon.started();
    const throttledId = await sqs.send(url, JSON.stringify({ throttle: true }));
    const line = await daemon.waitForLog((record) => record.message === "message left for later (RateLimited)");
    // The pause began when the daemon settled the throw, which it logged in the same turn.
    const pausedAt = Date.parse(line.timestamp!);
    await eventually(() => ws!.events().filter((event) => event.id === throttledId).length === 2, {
      timeoutMs: 30_000,
      message: () => `the throttled message ran ${ws!.events().filter((e) => e.id === throttledId).length} times`,
    });
    // No receive asked during the pause. A long poll under way when it began is not cut short (an aborted long
    // poll can still take a message at the server), and one sent just before may reach the proxy a little
    // late on a loaded machine: the window checked starts 500 ms in.
    const during = proxy.deliveries.filter((d) => d.askedAt > pausedAt + 500 && d.askedAt < pausedAt + 2_900);
    assert.deepEqual(during, [], "receives were sent during the pause");
    assert.ok(
      proxy.deliveries.some((d) => d.askedAt >= pausedAt + 2_900),
      "the queue did not receive again",
    );
    const runs = ws.events().filter((event) => event.id === throttledId);
    assert.equal(runs.length, 2);
    assert.equal(runs[1]!.receiveCount, 2);
    assert.ok(runs[1]!.at >= runs[0]!.at + 3_000 - 50, "the message came back before its retry-after");
    assert.equal(daemon.logsWith("handler failed").length, 0, "RateLimited is not a failure");
  });
});

const redisMissing = RedisServer.unavailable();

describe("a rate limit shared through Redis", { skip: redisMissing }, () => {
  let sqs: TestSqs | undefined;
  let proxy: DeliveryLog | undefined;
  let redis: RedisServer | undefined;
  const daemons: SqsdProcess[] = [];
  let ws: Workspace | undefined;
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((daemon) => daemon.dispose()));
    await proxy?.stop();
    await redis?.stop();
    await sqs?.stop();
    ws?.remove();
  });

  it("a shared limit without a rateLimitStore stops the daemon at start with the reason", async () => {
    sqs = await TestSqs.start();
    proxy = await DeliveryLog.start(sqs.endpoint);
    ws = new Workspace();
    const daemon = daemonThrough(ws, proxy, ["rate-limited-shared"]);
    daemons.push(daemon);
    const { code } = await daemon.exited;
    assert.notEqual(code, 0);
    assert.match(daemon.stderr + daemon.stdoutLines.join("\n"), /rateLimit.shared needs the config's rateLimitStore/);
  });

  it("with Redis stopped mid-run the daemon warns once and still stops promptly on SIGTERM", async () => {
    sqs = await TestSqs.start();
    redis = await RedisServer.start();
    proxy = await DeliveryLog.start(sqs.endpoint);
    const url = await sqs.createQueue("rate-limited-shared");
    await sqs.sendMany(
      url,
      Array.from({ length: 160 }, (_, i) => JSON.stringify({ i })),
    );
    ws = new Workspace();
    const daemon = daemonThrough(ws, proxy, ["rate-limited-shared"], { rateLimitStore: { url: redis.url } });
    daemons.push(daemon);
    await daemon.started();
    await eventually(() => proxy!.count("rate-limited-shared") > 0, { timeoutMs: 30_000, message: "nothing received" });
    // A take that Redis answers late (2 s) counts as an outage too, which a loaded machine can cause before the
    // stop: the warnings that count are those of this outage, logged from the stop on.
    const stoppedAt = Date.now();
    await redis.stop();
    const warning = "rate limit store unreachable: the queue receives nothing until it answers";
    const ofThisOutage = () =>
      daemon.logsWith(warning).filter((record) => Date.parse(record.timestamp ?? "") >= stoppedAt - 50);
    await eventually(() => ofThisOutage().length > 0, { timeoutMs: 30_000, message: "no warning logged" });
    daemon.kill("SIGTERM");
    // A take must not wait for Redis, nor the drain for a take: the bound here only tells a hang.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the daemon did not stop on SIGTERM within 60 s")), 60_000);
    });
    const { code } = await Promise.race([daemon.exited, hung]).finally(() => clearTimeout(timer));
    assert.equal(code, 0);
    assert.equal(ofThisOutage().length, 1, "one warning per outage");
  });

  it("two daemons sharing perSecond 5 receive at most that in total under a backlog", async (t) => {
    sqs = await TestSqs.start();
    redis = await RedisServer.start();
    proxy = await DeliveryLog.start(sqs.endpoint);
    const url = await sqs.createQueue("rate-limited-shared");
    await sqs.sendMany(
      url,
      Array.from({ length: 160 }, (_, i) => JSON.stringify({ i })),
    );
    ws = new Workspace();
    const startedAt = Date.now();
    for (const name of ["a.json", "b.json"]) {
      const daemon = daemonThrough(ws, proxy, ["rate-limited-shared"], { rateLimitStore: { url: redis.url } }, name);
      daemons.push(daemon);
    }
    await Promise.all(daemons.map((daemon) => daemon.started()));
    const first = await eventually(() => proxy!.received("rate-limited-shared")[0], {
      timeoutMs: 30_000,
      message: "no message was received",
    });
    await eventually(
      () =>
        proxy!.received("rate-limited-shared").some((delivery) => delivery.answeredAt >= first.answeredAt + WATCH_MS),
      { timeoutMs: WATCH_MS + 30_000, message: () => `received ${proxy!.count("rate-limited-shared")} messages` },
    );
    const watched = proxy.received("rate-limited-shared").filter((d) => d.answeredAt <= first.answeredAt + WATCH_MS);
    const total = watched.reduce((sum, delivery) => sum + delivery.count, 0);
    // Both daemons took part: the limit is shared, not one daemon's alone.
    const pids = new Set(ws.events().map((event) => event.pid));
    assert.equal(pids.size, 2, "one daemon received everything");
    // Fixed windows of 1 s hold 5 tokens each: over 20 s that is at most 21 windows' worth.
    assert.ok(total <= (PER_SECOND * WATCH_MS) / 1000 + BURST, `${total} messages in ${WATCH_MS} ms`);
    const worst = worstExcess(watched, PER_SECOND, 2 * BURST, startedAt);
    t.diagnostic(
      `${total} received in ${WATCH_MS} ms by 2 daemons; tightest window: ${worst.count} in ${worst.to - worst.from} ms`,
    );
    assert.ok(worst.excess <= 1e-6, `${worst.count} messages left SQS in ${worst.to - worst.from} ms`);
    assert.ok(total >= (PER_SECOND * WATCH_MS) / 1000 / 2, `only ${total} messages in ${WATCH_MS} ms`);
  });
});
