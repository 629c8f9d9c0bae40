/**
 * The idempotency table's shape, for `sqsd init` and tests: Powertools' (partition key `id`, a string), billed
 * per request, with TTL on `expiration` so that DynamoDB deletes expired records for nothing.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { importDynamoDb } from "./dynamodb-sdk.js";

/** What {@link ensureIdempotencyTable} did or found. */
export type TableCheck =
  | { readonly kind: "created" | "ok" }
  /** The table is missing, or has another key or no TTL: `problem` says what, for the user. */
  | { readonly kind: "problem"; readonly problem: string };

/**
 * Checks the idempotency table, creating it (and its TTL) when `create` is set and it does not exist. A table
 * with another key schema is reported, never changed.
 */
export async function ensureIdempotencyTable(
  client: DynamoDBClient,
  tableName: string,
  create: boolean,
): Promise<TableCheck> {
  const sdk = await importDynamoDb();
  let keySchema: { AttributeName?: string | undefined; KeyType?: string | undefined }[] | undefined;
  try {
    keySchema = (await client.send(new sdk.DescribeTableCommand({ TableName: tableName }))).Table?.KeySchema;
  } catch (error) {
    if (!(error instanceof sdk.ResourceNotFoundException)) throw error;
    if (!create)
      return { kind: "problem", problem: `table ${tableName} does not exist (sqsd init --create-tables creates it)` };
    await client.send(
      new sdk.CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await sdk.waitUntilTableExists({ client, maxWaitTime: 120 }, { TableName: tableName });
    return turnOnTtl(sdk, client, tableName);
  }
  const hash = keySchema?.find((key) => key.KeyType === "HASH")?.AttributeName;
  if (hash !== "id" || (keySchema?.length ?? 0) !== 1) {
    return {
      kind: "problem",
      problem: `table ${tableName} must have the partition key "id" alone (Powertools' format)`,
    };
  }
  const ttl = await client.send(new sdk.DescribeTimeToLiveCommand({ TableName: tableName }));
  const description = ttl.TimeToLiveDescription;
  const on = description?.TimeToLiveStatus === "ENABLED" || description?.TimeToLiveStatus === "ENABLING";
  if (!on || description?.AttributeName !== "expiration") {
    if (create) return turnOnTtl(sdk, client, tableName);
    return { kind: "problem", problem: `table ${tableName} has no TTL on "expiration": expired records would stay` };
  }
  return { kind: "ok" };
}

/** Turns TTL on for `expiration`; a server that cannot (some local ones) leaves the table without it, said so. */
async function turnOnTtl(
  sdk: Awaited<ReturnType<typeof importDynamoDb>>,
  client: DynamoDBClient,
  tableName: string,
): Promise<TableCheck> {
  try {
    await client.send(
      new sdk.UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: "expiration", Enabled: true },
      }),
    );
    return { kind: "created" };
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      kind: "problem",
      problem: `table ${tableName} is ready, but TTL on "expiration" could not be set (${reason})`,
    };
  }
}
