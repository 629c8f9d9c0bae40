import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { setTimeout } from "node:timers/promises";
import { GetQueueUrlCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { testConfig } from "../helpers/config.js";
import { SqsdProcess, type LogRecord } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqsProcess, sqsServers } from "../helpers/local-sqs.js";
import { MOTO_DEFECTS, ONE_RECEIVE_LANE } from "../helpers/moto.js";
import { Scenario } from "../helpers/scenario.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { Workspace } from "../helpers/workspace.js";

const TOKEN = "scheduling-token";

/** One queue's share of the scheduler, as /status.json reports it. */
interface QueueLoad {
  readonly queue: string;
  readonly buffered: number;
  readonly running: number;
}

/**
 * Which queue gets polled and which received message runs next: every queue keeps a long poll waiting
 * whatever the pool's slots, and free slots go to buffered messages by weight, in order within a FIFO group.
 */
for (const server of sqsServers())
  describe(`scheduling on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario | undefined;
    afterEach(async () => {
      await scenario?.dispose();
      scenario = undefined;
    });

    const handled = (s: Scenario) => s.ws.events().filter((event) => event.event === "handled");

    it("works off one queue's backlog at the speed of its handlers while other queues' long polls wait", async () => {
      const s = (scenario = await Scenario.start({ server: server.name }));
      const configPath = s.writeConfig(["backlog-and-idle"], {
        defaults: { waitTimeSeconds: 20 },
        // On moto, one receive lane: two receives at once can both take one message there (MOTO_DEFECTS).
        pool: { threads: 2, tasksPerThread: 1, ...(server.name === "moto" ? ONE_RECEIVE_LANE : {}) },
      });
      const daemon = s.spawn(["--config", configPath]);
      await daemon.started();
      const url = await queueUrl(s, "backlog");
      // Sent once the daemon runs, so the idle queues' long polls are already waiting when the backlog arrives.
      const ids = await s.sqs.sendMany(
        url,
        Array.from({ length: 20 }, (_, n) => JSON.stringify(n)),
      );

      // Not a timing threshold: the failure this guards against (polls rationed by pool slots, so the idle
      // queues' 20 s long polls hold both slots, and the backlog gets a message through only as one of them
      // returns) costs 20 s or more per message, 400 s for the backlog. Handlers that succeed at once take well
      // under a second each, even on a loaded machine, so 60 s separates the two by a wide margin either way.
      await eventually(() => handled(s).length >= 20, {
        timeoutMs: 60_000,
        message: () => `${handled(s).length} of 20 handled`,
      });
      assert.deepEqual(new Set(handled(s).map((event) => event.id)), new Set(ids));
      assert.ok(
        handled(s).every((event) => event.queue === "backlog" && event.receiveCount === 1),
        "each message handled once, on its first delivery",
      );
      // Receives carried several messages each: one message per receive would take 20, plus the one waiting now.
      const receives = s.sqs.requests("ReceiveMessage", url);
      assert.ok(receives <= 10, `20 messages took ${receives} ReceiveMessage requests`);
    });

    it(
      "picks up a message on any of 1,000 queues at once: every queue keeps its own long poll waiting",
      { skip: server.name === "moto" && MOTO_DEFECTS.thousandLongPolls },
      async () => {
        const s = (scenario = await Scenario.start({ server: server.name }));
        const names = Array.from({ length: 1_000 }, (_, n) => `q${String(n).padStart(4, "0")}`);
        // Created here, one at a time, rather than by the daemon, which halves start-up's requests on a loaded
        // machine; the daemon still looks each one up (32 at a time: the test at the end of this file shows why).
        const urls = new Map<string, string>();
        for (const name of names) urls.set(name, await s.sqs.createQueue(name));
        const configPath = s.writeConfig(["thousand-queues"], { defaults: { waitTimeSeconds: 20 } });
        const daemon = s.spawn(["--config", configPath]);
        // Start-up looks up and inspects 1,000 queues, a request each, and loads 1,000 receivers in every thread:
        // about 15 s on a loaded 2-core machine. The deadline allows for a slower one.
        const started = (await daemon.started(120_000)) as LogRecord & { receiveSockets?: number; queues?: string[] };
        assert.equal(started.queues?.length, 1_000);
        assert.ok((started.receiveSockets ?? 0) >= 1_000, `receiveSockets ${started.receiveSockets}`);

        // Every queue has a receive at the server at once. Polls rationed (by pool slots or by sockets) would
        // reach the later queues only as earlier 20 s polls return: 1,000 queues would take many minutes.
        const received = (name: string) => s.sqs.requests("ReceiveMessage", urls.get(name)) > 0;
        await eventually(() => names.every(received), {
          timeoutMs: 60_000,
          message: () => `${names.filter(received).length} of 1000 queues polled`,
        });

        // 20 queues spread over the range, first and last included.
        const chosen = Array.from({ length: 20 }, (_, n) => names[Math.round((n * 999) / 19)]!);
        const ids = new Map<string, string>();
        for (const name of chosen) ids.set(name, await s.sqs.send(urls.get(name)!, JSON.stringify(name)));
        // As in the test above, the deadline is no threshold: a message waiting for some other queue's long poll
        // to return would wait 20 s at least, and most of these 20 many times that.
        const handledQueues = () => new Set(handled(s).map((event) => event.queue));
        await eventually(() => chosen.every((name) => handledQueues().has(name)), {
          timeoutMs: 60_000,
          message: () => `handled on ${handledQueues().size} of ${chosen.length} queues`,
        });
        for (const event of handled(s))
          assert.equal(event.id, ids.get(event.queue), `${event.queue} handled its message`);
        assert.equal(handled(s).length, chosen.length, "each message handled once");
      },
    );

    it("shares slots by weight while two queues have a backlog", async () => {
      const s = (scenario = await Scenario.start({ server: server.name }));
      const urls = { light: await s.sqs.createQueue("light"), heavy: await s.sqs.createQueue("heavy") };
      for (const [name, url] of Object.entries(urls)) {
        await s.sqs.sendMany(
          url,
          Array.from({ length: 60 }, (_, n) => JSON.stringify(`${name}-${n}`)),
        );
      }
      const configPath = s.writeConfig(["weighted"], {
        pool: { threads: 1, tasksPerThread: 1, prefetch: 50 },
        http: { port: 0, token: TOKEN, statusCacheSeconds: 0 },
      });
      const daemon = s.spawn(["--config", configPath]);
      const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
      await daemon.started();
      const started = () => s.ws.events().filter((event) => event.event === "started");
      // The first handler holds the one slot on the gate until both buffers hold more than the 40 starts below
      // take from them (30 and 10): from then on, both queues always have a message waiting, and only the
      // weights decide who goes next.
      await eventually(() => started().length === 1);
      await eventually(
        async () => {
          const loads = await queueLoads(base);
          return loads.every((load) => load.buffered >= 30) && loads.length === 2;
        },
        { timeoutMs: 60_000 },
      );
      s.ws.openGate("go");
      await eventually(() => started().length >= 41, { timeoutMs: 60_000 });

      const order = started()
        .slice(1, 41)
        .map((event) => event.queue);
      const heavy = order.filter((queue) => queue === "heavy").length;
      // Stride scheduling gives exactly 30 of 40 (give or take one, by where the window falls); weights ignored
      // would give 20.
      assert.ok(heavy >= 27 && heavy <= 33, `heavy started ${heavy} of 40: ${order.join(" ")}`);
    });

    it("keeps each FIFO group in order, one message at a time, with more messages than the buffer holds", async () => {
      const s = (scenario = await Scenario.start({ server: server.name }));
      const url = await s.sqs.createQueue("steps.fifo", { FifoQueue: "true", ContentBasedDeduplication: "true" });
      // More groups than the buffer and the slots hold together, so that receives can fill the buffer. The local
      // server gives out one message of a group per receive and none while one is in flight, stricter than SQS,
      // which may return several of a group at once. So this test guards the whole path (a full buffer, the
      // message limit, exit 0, order), and the scheduler's unit tests cover a group's several buffered messages.
      const groups = ["A", "B", "C", "D", "E", "F", "G", "H"];
      for (const group of groups) {
        await s.sqs.client.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: Array.from({ length: 5 }, (_, n) => ({
              Id: String(n),
              MessageGroupId: group,
              MessageBody: JSON.stringify({ group, n }),
            })),
          }),
        );
      }
      const configPath = s.writeConfig(["fifo"], { pool: { threads: 2, tasksPerThread: 1, prefetch: 4 } });
      const result = await s.run(["--config", configPath, "--message-limit", "40"]);
      assert.equal(result.code, 0, result.stderr);

      for (const group of groups) {
        const events = s.ws
          .events()
          .filter((event) => (event.body as { group: string }).group === group)
          .map((event) => `${event.event} ${(event.body as { n: number }).n}`);
        // Started and handled alternate: the next message of a group starts only after the previous one ended.
        const expected = Array.from({ length: 5 }, (_, n) => [`started ${n}`, `handled ${n}`]).flat();
        assert.deepEqual(events, expected, `group ${group}`);
      }
    });
  });

describe("start-up with 1,000 queues", () => {
  let server: TestSqsProcess | undefined;
  let proxy: TcpProxy | undefined;
  let daemon: SqsdProcess | undefined;
  let ws: Workspace | undefined;
  afterEach(async () => {
    server?.child.kill("SIGCONT");
    await daemon?.dispose();
    await proxy?.stop();
    await server?.stop();
    ws?.remove();
  });

  it("rides out SQS answering nothing for 20 s, as it does with a few queues", async () => {
    server = await TestSqsProcess.start();
    // The proxy counts the daemon's connections, so the test can tell when start-up's requests begin.
    proxy = await TcpProxy.start(server.endpoint);
    ws = new Workspace();
    const configPath = ws.writeConfig(
      testConfig({ endpoint: proxy.endpoint }, ["thousand-queues"], { defaults: { waitTimeSeconds: 20 } }),
    );
    // A stopped server still accepts connections (the kernel does), but answers nothing until it continues.
    server.child.kill("SIGSTOP");
    const sqsd = (daemon = new SqsdProcess(["--config", configPath], { env: { ...server.env, ...ws.env } }));
    await eventually(() => (proxy?.connections ?? 0) > 0, { timeoutMs: 60_000 });
    // A fault of a set length, not a wait for the daemon: 20 s is less than the 30 s request timeout, which a
    // request already on a socket rides out.
    const exited = () => sqsd.child.exitCode !== null || sqsd.child.signalCode !== null;
    const freeze = new AbortController();
    void sqsd.exited.then(() => freeze.abort());
    await setTimeout(20_000, undefined, { signal: freeze.signal }).catch((error: unknown) => {
      // Cut short only because the daemon exited, which the assertion below reports.
      if (!freeze.signal.aborted) throw error;
    });
    server.child.kill("SIGCONT");
    await eventually(() => exited() || sqsd.logsWith("sqsd started").length > 0, { timeoutMs: 120_000 });
    if (exited()) {
      const status = await sqsd.exited;
      const failure = sqsd.stderr.split("\n").find((line) => line.startsWith("sqsd:"));
      assert.fail(`sqsd exited ${status.code} during start-up: ${failure}`);
    }
  });
});

async function queueUrl(s: Scenario, name: string): Promise<string> {
  const { QueueUrl } = await s.sqs.client.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`no URL for ${name}`);
  return QueueUrl;
}

async function queueLoads(base: string): Promise<QueueLoad[]> {
  const response = await fetch(`${base}/status.json`);
  return ((await response.json()) as { supervisor: { queues: QueueLoad[] } }).supervisor.queues;
}
