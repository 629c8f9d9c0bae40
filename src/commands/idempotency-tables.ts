import type { RegisteredQueue } from "../registry/types.js";
import type { DynamoDbIdempotencyStore } from "../idempotency/dynamodb-store.js";

/** What `sqsd init` found for one idempotency table. */
export interface TableStep {
  /** `dynamodb://table`. */
  readonly table: string;
  readonly action: "ok" | "create" | "missing";
  readonly details: string[];
}

/**
 * The DynamoDB tables of the receivers' `idempotency` stores: each is checked (key `id`, TTL on `expiration`),
 * and created with its TTL only with `createTables` (`sqsd init --create-tables`), as buckets are. A table that
 * is missing or wrong is reported (exit 1): every delivery of its receivers would fail.
 */
export async function checkIdempotencyTables(
  registered: readonly RegisteredQueue[],
  options: { readonly createTables: boolean; readonly dryRun: boolean },
): Promise<TableStep[]> {
  const stores = new Map<string, DynamoDbIdempotencyStore>();
  for (const queue of registered) {
    const store = queue.options.idempotency?.store;
    if (store?.kind === "dynamodb")
      stores.set((store as DynamoDbIdempotencyStore).tableName, store as DynamoDbIdempotencyStore);
  }
  const steps: TableStep[] = [];
  for (const [name, store] of stores) {
    const table = `dynamodb://${name}`;
    const check = await store.ensureTable(options.createTables && !options.dryRun);
    if (check.kind === "ok") steps.push({ table, action: "ok", details: ["table exists, TTL on expiration"] });
    else if (check.kind === "created") steps.push({ table, action: "create", details: ["table or its TTL created"] });
    else if (check.kind === "problem") {
      const action = options.createTables && options.dryRun ? "create" : "missing";
      steps.push({ table, action, details: [check.problem] });
    }
    await store.close?.();
  }
  return steps;
}
