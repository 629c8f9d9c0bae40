/**
 * The DynamoDB store, in the table format of Powertools' `DynamoDBPersistenceLayer` (partition key `id`,
 * `status`, `expiration` in epoch seconds, which is also the table's TTL attribute, `in_progress_expiration`
 * in epoch ms, `data`), with its conditional put: a Lambda function using Powertools and sqsd share one table
 * and honour each other's records. `@aws-sdk/client-dynamodb` is an optional peer dependency, imported at the
 * first request.
 */
import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { currentSqsSettings } from "../sqs/settings.js";
import { importDynamoDb, type DynamoModule } from "./dynamodb-sdk.js";
import { ensureIdempotencyTable, type TableCheck } from "./dynamodb-table.js";
import { blockedBy, type StoredRecord } from "./records.js";
import { LockLostError, type BeginResult, type IdempotencyStore } from "./types.js";

/** Options of {@link dynamoDbStore}. */
export interface DynamoDbStoreOptions {
  /** The table: partition key `id` (string), TTL on `expiration`. `sqsd init` creates it when asked. */
  readonly tableName: string;
  /** @defaultValue the SQS settings' region */
  readonly region?: string;
  /** A DynamoDB endpoint (a local server). @defaultValue the SDK's, which honours `AWS_ENDPOINT_URL_DYNAMODB` */
  readonly endpoint?: string;
  /** An existing `DynamoDBClient` to use instead of building one. @defaultValue none */
  readonly client?: unknown;
}

/** The DynamoDB store, which `sqsd init` also asks to check (or create) its table. */
export interface DynamoDbIdempotencyStore extends IdempotencyStore {
  readonly kind: "dynamodb";
  readonly tableName: string;
  /** Checks the table, creating it (with TTL on `expiration`) when `create` is set and it does not exist. */
  ensureTable(create: boolean): Promise<TableCheck>;
}

/**
 * An idempotency store on DynamoDB: one conditional `PutItem` to take a key, one `UpdateItem` to complete it,
 * one `DeleteItem` when the handler failed. A taken key costs the put alone (its holder's record comes back
 * with the refusal).
 */
export function dynamoDbStore(options: DynamoDbStoreOptions): DynamoDbIdempotencyStore {
  let client: Promise<{ sdk: DynamoModule; client: DynamoDBClient }> | undefined;
  const connect = (): Promise<{ sdk: DynamoModule; client: DynamoDBClient }> => {
    client ??= importDynamoDb().then((sdk) => ({ sdk, client: buildClient(sdk, options) }));
    return client;
  };
  const Key = (key: string): Record<string, AttributeValue> => ({ id: { S: key } });
  const TableName = options.tableName;
  return {
    kind: "dynamodb",
    tableName: TableName,
    ensureTable: async (create) => ensureIdempotencyTable((await connect()).client, TableName, create),
    begin: async (key, lockUntilMs, expiresAtSeconds) => {
      const { sdk, client: dynamo } = await connect();
      return begin(sdk, dynamo, TableName, key, lockUntilMs, expiresAtSeconds);
    },
    complete: async (key, data, expiresAtSeconds, lockUntilMs) => {
      const { sdk, client: dynamo } = await connect();
      const withData = data !== undefined;
      try {
        await dynamo.send(
          new sdk.UpdateItemCommand({
            TableName,
            Key: Key(key),
            UpdateExpression: `SET #expiry = :expiry, #status = :status${withData ? ", #data = :data" : ""}`,
            ConditionExpression: OWN_LOCK,
            ExpressionAttributeNames: {
              ...ownLockNames,
              "#expiry": "expiration",
              ...(withData ? { "#data": "data" } : {}),
            },
            ExpressionAttributeValues: {
              ...ownLockValues(lockUntilMs),
              ":expiry": { N: String(expiresAtSeconds) },
              ":status": { S: "COMPLETED" },
              ...(withData ? { ":data": toAttribute(data) } : {}),
            },
          }),
        );
      } catch (error) {
        if (error instanceof sdk.ConditionalCheckFailedException) throw new LockLostError(key);
        throw error;
      }
    },
    release: async (key, lockUntilMs) => {
      const { sdk, client: dynamo } = await connect();
      try {
        await dynamo.send(
          new sdk.DeleteItemCommand({
            TableName,
            Key: Key(key),
            ConditionExpression: OWN_LOCK,
            ExpressionAttributeNames: ownLockNames,
            ExpressionAttributeValues: ownLockValues(lockUntilMs),
          }),
        );
      } catch (error) {
        // Another delivery's record (or none): it stays, and there is nothing of this delivery's to delete.
        if (!(error instanceof sdk.ConditionalCheckFailedException)) throw error;
      }
    },
    close: async () => {
      const open = client;
      client = undefined;
      // A client the user passed in is theirs to close.
      if (open && options.client === undefined) (await open.catch(() => undefined))?.client.destroy();
    },
  };
}

/**
 * The condition of a complete or a release: the record is still the in-progress lock this delivery wrote (its
 * `in_progress_expiration`, which Powertools' records carry too), not one another delivery took since.
 */
const OWN_LOCK = "#status = :inprogress AND #in_progress_expiry = :lock";
const ownLockNames = { "#status": "status", "#in_progress_expiry": "in_progress_expiration" };
const ownLockValues = (lockUntilMs: number): Record<string, AttributeValue> => ({
  ":inprogress": { S: "INPROGRESS" },
  ":lock": { N: String(lockUntilMs) },
});

async function begin(
  sdk: DynamoModule,
  client: DynamoDBClient,
  TableName: string,
  key: string,
  lockUntilMs: number,
  expiresAtSeconds: number,
): Promise<BeginResult> {
  const now = Date.now();
  try {
    await client.send(
      new sdk.PutItemCommand({
        TableName,
        Item: {
          id: { S: key },
          expiration: { N: String(expiresAtSeconds) },
          status: { S: "INPROGRESS" },
          in_progress_expiration: { N: String(lockUntilMs) },
        },
        // Powertools' condition, word for word: free, expired, or in progress past its lock.
        ConditionExpression:
          "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)",
        ExpressionAttributeNames: {
          "#id": "id",
          "#expiry": "expiration",
          "#in_progress_expiry": "in_progress_expiration",
          "#status": "status",
        },
        ExpressionAttributeValues: {
          ":now": { N: String(now / 1000) },
          ":now_in_millis": { N: String(now) },
          ":inprogress": { S: "INPROGRESS" },
        },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { kind: "acquired" };
  } catch (error) {
    if (!(error instanceof sdk.ConditionalCheckFailedException)) throw error;
    // Servers that do not return the old item (older local ones) cost a consistent read more.
    const item =
      error.Item ??
      (await client.send(new sdk.GetItemCommand({ TableName, Key: { id: { S: key } }, ConsistentRead: true }))).Item;
    const blocked = blockedBy(item && fromItem(item), Date.now());
    // Refused, yet nothing blocks now: the holder's lock ran out in between. The next delivery takes it.
    return blocked ?? { kind: "inProgress", untilMs: Date.now() };
  }
}

function fromItem(item: Record<string, AttributeValue>): StoredRecord | undefined {
  const status = item["status"]?.S;
  const expiration = Number(item["expiration"]?.N);
  if ((status !== "INPROGRESS" && status !== "COMPLETED") || !Number.isFinite(expiration)) return undefined;
  const lock = item["in_progress_expiration"]?.N;
  return { status, expiration, ...(lock === undefined ? {} : { in_progress_expiration: Number(lock) }) };
}

/** A JSON value as a DynamoDB attribute, as Powertools' `marshall` stores a handler's result. */
function toAttribute(value: unknown): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === "string") return { S: value };
  if (typeof value === "number") return { N: String(value) };
  if (typeof value === "boolean") return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  const entries = Object.entries(value as Record<string, unknown>).filter(([, inner]) => inner !== undefined);
  return { M: Object.fromEntries(entries.map(([name, inner]) => [name, toAttribute(inner)])) };
}

function buildClient(sdk: DynamoModule, options: DynamoDbStoreOptions): DynamoDBClient {
  if (options.client !== undefined) return options.client as DynamoDBClient;
  const settings = currentSqsSettings();
  return new sdk.DynamoDBClient({
    region: options.region ?? settings.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
  });
}
