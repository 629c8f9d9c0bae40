import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { after, afterEach, before, describe, it } from "node:test";
import { ensureIdempotencyTable } from "../../src/idempotency/dynamodb-table.js";
import type { SqsdProcess } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";
import { parsePrometheus, sampleValue } from "../helpers/prometheus.js";
import { Scenario } from "../helpers/scenario.js";
import { Dynalite, RedisServer } from "../helpers/store-servers.js";

/** A store server for the fixture receiver `idempotent`, started once per store and pointed at by env. */
interface StoreServer {
  readonly name: string;
  readonly skip: string | undefined;
  start(): Promise<{ env: Record<string, string>; stop(): Promise<void> | void }>;
}

const stores: StoreServer[] = [
  {
    name: "redis-server",
    skip: RedisServer.unavailable(),
    start: async () => {
      const server = await RedisServer.start();
      return { env: { SQSD_TEST_IDEM_REDIS_URL: server.url }, stop: () => server.stop() };
    },
  },
  {
    name: "dynalite",
    skip: Dynalite.unavailable(),
    start: async () => {
      const server = await Dynalite.start();
      const client = new DynamoDBClient({
        endpoint: server.endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      });
      await ensureIdempotencyTable(client, "idempotency", true);
      client.destroy();
      return { env: { SQSD_TEST_IDEM_DYNAMO_ENDPOINT: server.endpoint }, stop: () => server.stop() };
    },
  },
];

for (const store of stores)
  describe(`idempotent receivers on ${store.name}, two replicas on one fauxqs queue`, { skip: store.skip }, () => {
    let server: Awaited<ReturnType<StoreServer["start"]>> | undefined;
    let scenario: Scenario | undefined;
    before(async () => {
      server = await store.start();
      // The daemons inherit this process's environment (SqsdProcess), and with it the store's address.
      Object.assign(process.env, server.env);
    });
    after(async () => {
      for (const name of Object.keys(server?.env ?? {})) delete process.env[name];
      await server?.stop();
    });
    afterEach(async () => {
      await scenario?.dispose();
      scenario = undefined;
    });

    async function replicas(count: number): Promise<{ url: string; daemons: SqsdProcess[] }> {
      scenario = await Scenario.start();
      // The queue's own visibility is what the lock lasts (the daemon reads it), so it must be short here.
      const url = await scenario.sqs.createQueue("idempotent", { VisibilityTimeout: "3" });
      const configPath = scenario.writeConfig(["idempotent"], {
        defaults: { visibilityTimeoutSeconds: 3 },
        http: { port: 0, statusCacheSeconds: 0 },
      });
      const daemons = Array.from({ length: count }, () => scenario!.spawn(["--config", configPath]));
      await Promise.all(daemons.map((daemon) => daemon.started()));
      return { url, daemons };
    }

    const effects = (orderId: string) =>
      scenario!.ws
        .events()
        .filter((event) => event.event === "effect" && (event.body as { orderId: string }).orderId === orderId);
    const duplicates = (daemons: SqsdProcess[]) =>
      daemons.flatMap((daemon) => daemon.logs.filter((record) => record.outcome === "duplicate"));
    const drained = async (url: string) => {
      const counts = await scenario!.sqs.counts(url);
      return counts.visible === 0 && counts.inFlight === 0 && counts.delayed === 0;
    };

    it("runs a producer's duplicates (same order id, separate messages) once, and deletes every copy", async () => {
      const { url, daemons } = await replicas(2);
      const orders = [randomUUID(), randomUUID(), randomUUID()];
      await scenario!.sqs.sendMany(
        url,
        orders.flatMap((orderId) => [JSON.stringify({ orderId }), JSON.stringify({ orderId })]),
      );
      await eventually(async () => duplicates(daemons).length === 3 && (await drained(url)), { timeoutMs: 60_000 });
      assert.deepEqual(
        orders.map((orderId) => effects(orderId).length),
        [1, 1, 1],
      );
      let counted = 0;
      for (const daemon of daemons) {
        const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
        const samples = parsePrometheus(await (await fetch(`${String(base)}/metrics`)).text());
        counted += sampleValue(samples, "sqsd_messages_duplicate_total", { queue: "idempotent" }) ?? 0;
      }
      assert.equal(counted, 3, "sqsd_messages_duplicate_total over both replicas");
    });

    it("settles the redelivery as a duplicate when a replica died after its handler completed, before the delete", async () => {
      const { url, daemons } = await replicas(2);
      const orderId = randomUUID();
      const id = await scenario!.sqs.send(url, JSON.stringify({ orderId, mode: "dieAfter" }));
      const died = await Promise.race(
        daemons.map(async (daemon) => ((await daemon.exited).signal ? daemon : undefined)),
      );
      assert.ok(died, "the replica that ran it was SIGKILLed");
      const survivor = daemons.find((daemon) => daemon !== died)!;
      await eventually(
        async () =>
          survivor.logs.some((record) => record.outcome === "duplicate" && record.messageId === id) &&
          (await drained(url)),
        { timeoutMs: 60_000 },
      );
      assert.equal(effects(orderId).length, 1, "the effect ran once");
    });

    it("runs the message again once the lock of a replica killed inside its handler expires", async () => {
      const { url, daemons } = await replicas(2);
      const orderId = randomUUID();
      const id = await scenario!.sqs.send(url, JSON.stringify({ orderId, mode: "hang" }));
      const hanging = await eventually(() =>
        scenario!.ws.events().find((event) => event.event === "hanging" && event.id === id),
      );
      const holder = daemons.find((daemon) => daemon.child.pid === hanging.pid)!;
      holder.kill("SIGKILL");
      await eventually(
        async () =>
          scenario!.ws
            .events()
            .some((event) => event.event === "handled" && event.id === id && event.pid !== hanging.pid) &&
          (await drained(url)),
        {
          timeoutMs: 60_000,
          message: () =>
            `the other replica did not run it; its records of the message: ${JSON.stringify(
              daemons.flatMap((daemon) => daemon.logs.filter((record) => record.messageId === id)),
            )}; events: ${JSON.stringify(scenario!.ws.events().filter((event) => event.id === id))}`,
        },
      );
      // At least once: the effect before the crash repeats (documented), and then the key is completed.
      assert.deepEqual(
        effects(orderId).map((event) => event.pid === hanging.pid),
        [true, false],
      );
    });
  });
