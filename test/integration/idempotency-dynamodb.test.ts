import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  IdempotencyConfig,
  makeIdempotent,
  IdempotencyAlreadyInProgressError,
} from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { dynamoDbStore } from "../../src/idempotency/dynamodb-store.js";
import { ensureIdempotencyTable } from "../../src/idempotency/dynamodb-table.js";
import { runOnce } from "../../src/idempotency/guard.js";
import type { IdempotencyStore } from "../../src/idempotency/types.js";
import { storeContract } from "../helpers/idempotency-contract.js";
import { Dynalite } from "../helpers/store-servers.js";

const skip = Dynalite.unavailable();
const credentials = { accessKeyId: "test", secretAccessKey: "test" };

describe("dynamoDbStore against dynalite", { skip }, () => {
  let server: Dynalite | undefined;
  let client: DynamoDBClient;
  let store: IdempotencyStore;
  const tableName = "idempotency";
  before(async () => {
    server = await Dynalite.start();
    client = new DynamoDBClient({ endpoint: server.endpoint, region: "us-east-1", credentials });
    const created = await ensureIdempotencyTable(client, tableName, true);
    // dynalite has no UpdateTimeToLive: the table is made, and the TTL step says it could not be set.
    assert.ok(created.kind === "created" || /TTL/.test(created.kind === "problem" ? created.problem : ""));
    store = dynamoDbStore({ tableName, client });
  });
  after(async () => {
    client?.destroy();
    await server?.stop();
  });

  storeContract(() => store);

  it("finds an existing table good, and reports one with another key without touching it", async () => {
    const check = await ensureIdempotencyTable(client, tableName, false);
    assert.ok(check.kind === "ok" || (check.kind === "problem" && /TTL/.test(check.problem)));
    const sdk = await import("@aws-sdk/client-dynamodb");
    await client.send(
      new sdk.CreateTableCommand({
        TableName: "other-key",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    const other = await ensureIdempotencyTable(client, "other-key", true);
    assert.ok(other.kind === "problem" && /partition key "id"/.test(other.problem));
    const missing = await ensureIdempotencyTable(client, "missing", false);
    assert.ok(missing.kind === "problem" && /does not exist/.test(missing.problem));
  });

  describe("with Powertools' makeIdempotent on the same table", () => {
    /** A Lambda function using Powertools, keyed by the order id under the prefix "orders". */
    const lambda = (effect: (orderId: string) => unknown): ((event: { orderId: string }) => Promise<unknown>) => {
      const config = new IdempotencyConfig({ eventKeyJmesPath: "orderId" });
      // Outside Lambda the in-progress expiry needs a context; this one gives the function 30 s.
      config.registerLambdaContext({ getRemainingTimeInMillis: () => 30_000 });
      const persistenceStore = new DynamoDBPersistenceLayer({
        tableName,
        clientConfig: { endpoint: server!.endpoint, region: "us-east-1", credentials },
      });
      return makeIdempotent(async (event: { orderId: string }) => effect(event.orderId), {
        persistenceStore,
        config,
        keyPrefix: "orders",
      });
    };
    const byOrder = {
      store: (): IdempotencyStore => store,
      key: (m: { body: unknown }) => (m.body as { orderId: string }).orderId,
    };
    const guard = (orderId: string, handler: () => Promise<unknown>, maxStoredResultBytes = 0) =>
      runOnce(
        { store: byOrder.store(), key: byOrder.key, keyPrefix: "orders", maxStoredResultBytes },
        "q",
        { id: randomUUID(), body: { orderId } },
        30_000,
        handler,
      );

    it("sqsd settles as a duplicate what a Powertools function completed", async () => {
      const orderId = randomUUID();
      let effects = 0;
      assert.equal(await lambda(() => ++effects)({ orderId }), 1);
      const run = await guard(orderId, async () => ++effects);
      assert.deepEqual([run.kind, effects], ["duplicate", 1]);
    });

    it("a Powertools function returns what sqsd completed, without running, and refuses what sqsd holds", async () => {
      const orderId = randomUUID();
      let effects = 0;
      await guard(orderId, async () => ({ charged: ++effects }), 1024);
      assert.deepEqual(await lambda(() => ++effects)({ orderId }), { charged: 1 });
      assert.equal(effects, 1);

      const held = randomUUID();
      let release!: () => void;
      const holding = guard(held, () => new Promise<void>((done) => (release = done)));
      await assert.rejects(lambda(() => ++effects)({ orderId: held }), IdempotencyAlreadyInProgressError);
      release();
      assert.equal((await holding).kind, "ran");
      assert.equal(effects, 1);
    });

    it("sqsd leaves for later what a Powertools function holds in progress", async () => {
      const orderId = randomUUID();
      let release!: () => void;
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const call = lambda(() => {
        started();
        return new Promise<string>((done) => (release = () => done("x")));
      })({ orderId });
      // Powertools wrote its in-progress record before it called the function.
      await running;
      const other = await guard(orderId, async () => assert.fail("must not run"));
      release();
      assert.equal(await call, "x");
      assert.equal(other.kind, "inProgress");
      assert.ok(other.kind === "inProgress" && other.retryAfterSeconds <= 30);
    });
  });
});
