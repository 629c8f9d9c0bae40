/**
 * The Redis (or Valkey) store, in the record format of Powertools' `CachePersistenceLayer`: the record's key
 * holds its JSON (`status`, `expiration`, `in_progress_expiration`, `data`) and expires with the record. Taking
 * a key is one `SET NX EX`; a record whose in-progress lock expired (its holder died) is taken over under a
 * short `key:lock`, as Powertools does. `redis` (node-redis) is an optional peer dependency, imported at the
 * first request.
 */
import type { RedisClientType } from "redis";
import { MissingPackageError } from "../errors.js";
import { blockedBy, type StoredRecord } from "./records.js";
import type { BeginResult, IdempotencyStore } from "./types.js";

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** The server, as node-redis takes it: `redis://host:6379`, `rediss://...` for TLS. @defaultValue `redis://localhost:6379` */
  readonly url?: string;
  /** An existing node-redis client to use instead of `url` (sqsd connects it if it is not open). @defaultValue none */
  readonly client?: unknown;
}

/** How long a takeover of an orphaned record holds its `key:lock` (Powertools' orphan lock, 10 s). */
const ORPHAN_LOCK_SECONDS = 10;

type Client = Pick<RedisClientType, "set" | "get" | "del" | "isOpen" | "connect" | "on" | "unref" | "destroy">;

/**
 * An idempotency store on Redis or Valkey: one `SET NX` to take a key, one `SET` to complete it, one `DEL`
 * when the handler failed; a `GET` more when the key is taken.
 */
export function redisStore(options: RedisStoreOptions = {}): IdempotencyStore {
  let connected: Promise<Client> | undefined;
  const client = (): Promise<Client> => {
    connected ??= connect(options).catch((error: unknown) => {
      connected = undefined;
      throw error;
    });
    return connected;
  };
  return {
    kind: "redis",
    begin: async (key, lockUntilMs, expiresAtSeconds) => begin(await client(), key, lockUntilMs, expiresAtSeconds),
    complete: async (key, data, expiresAtSeconds) => {
      const record: StoredRecord = { status: "COMPLETED", expiration: expiresAtSeconds, data };
      await (
        await client()
      ).set(key, JSON.stringify(record), { expiration: { type: "EXAT", value: expiresAtSeconds } });
    },
    release: async (key) => void (await (await client()).del(key)),
    close: async () => {
      const open = connected;
      connected = undefined;
      // A client the user passed in is theirs to close.
      if (open && options.client === undefined) (await open.catch(() => undefined))?.destroy();
    },
  };
}

async function begin(client: Client, key: string, lockUntilMs: number, expiresAtSeconds: number): Promise<BeginResult> {
  const record: StoredRecord = {
    status: "INPROGRESS",
    expiration: expiresAtSeconds,
    in_progress_expiration: lockUntilMs,
  };
  const json = JSON.stringify(record);
  const expiration = { type: "EXAT", value: expiresAtSeconds } as const;
  if ((await client.set(key, json, { condition: "NX", expiration })) !== null) return { kind: "acquired" };
  const existing = await client.get(key);
  const blocked = blockedBy(existing === null ? undefined : parseRecord(existing), Date.now());
  if (blocked) return blocked;
  // Gone since, or in progress past its lock (its holder died): take it over, one taker at a time.
  const lock = await client.set(`${key}:lock`, "true", {
    condition: "NX",
    expiration: { type: "EX", value: ORPHAN_LOCK_SECONDS },
  });
  if (lock === null) return { kind: "inProgress", untilMs: Date.now() + ORPHAN_LOCK_SECONDS * 1000 };
  await client.set(key, json, { expiration });
  return { kind: "acquired" };
}

/** A stored record, or `undefined` for a value that is not one (it then blocks nothing and is overwritten). */
function parseRecord(json: string): StoredRecord | undefined {
  try {
    const value = JSON.parse(json) as Partial<StoredRecord> | null;
    return value &&
      (value.status === "INPROGRESS" || value.status === "COMPLETED") &&
      typeof value.expiration === "number"
      ? (value as StoredRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

async function connect(options: RedisStoreOptions): Promise<Client> {
  if (options.client !== undefined) {
    const given = options.client as Client;
    if (!given.isOpen) await given.connect();
    return given;
  }
  let redis: typeof import("redis");
  try {
    redis = await import("redis");
  } catch (error) {
    throw new MissingPackageError("redis", "redisStore()", "use another idempotency store", error, "dependency");
  }
  const created = redis.createClient({ url: options.url ?? "redis://localhost:6379" }) as unknown as Client;
  // node-redis reconnects by itself; without a listener an 'error' event would end the thread. Requests made
  // meanwhile fail with their own error, which the message's outcome carries.
  created.on("error", () => undefined);
  await created.connect();
  // An idle store must not keep a process (a test, a script that imports the receivers) alive.
  created.unref();
  return created;
}
