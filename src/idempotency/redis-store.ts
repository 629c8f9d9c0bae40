/**
 * The Redis (or Valkey) store, in the record format of Powertools' `CachePersistenceLayer`: the record's key
 * holds its JSON (`status`, `expiration`, `in_progress_expiration`, `data`) and expires with the record. Taking
 * a key is one `SET NX EX`; a record whose in-progress lock expired (its holder died) is taken over under a
 * short `key:lock`, as Powertools does. `redis` (node-redis) is an optional peer dependency, imported at the
 * first request.
 */
import type { RedisClientType } from "redis";
import { optionalPackage } from "../optional-package.js";
import { blockedBy, type StoredRecord } from "./records.js";
import { LockLostError, type BeginResult, type IdempotencyStore } from "./types.js";

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** The server, as node-redis takes it: `redis://host:6379`, `rediss://...` for TLS. @defaultValue `redis://localhost:6379` */
  readonly url?: string;
  /** An existing node-redis client to use instead of `url` (sqsd connects it if it is not open). @defaultValue none */
  readonly client?: unknown;
}

/** How long a takeover of an orphaned record holds its `key:lock` (Powertools' orphan lock, 10 s). */
const ORPHAN_LOCK_SECONDS = 10;

/**
 * How long one request, or the first connection, may take before it fails. A store error must end in the
 * message's outcome (a failure before the handler, a warning after it), never hang the thread: node-redis
 * retries a refused connection for ever and, by default, queues requests while disconnected.
 */
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Acts on `KEYS[1]` only while it is the in-progress lock taken until `ARGV[1]` (its `in_progress_expiration`):
 * `ARGV[2]` absent deletes it; present, it is the completed record's JSON, stored to expire at `ARGV[3]`.
 * Returns 1 when it acted. One script, so that no other delivery's write lands between the check and the act.
 */
const IF_LOCK_HELD = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, record = pcall(cjson.decode, raw)
if not ok or type(record) ~= 'table' or record.status ~= 'INPROGRESS'
  or tonumber(record.in_progress_expiration) ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == nil then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'EXAT', ARGV[3])
return 1`;

type Client = Pick<
  RedisClientType,
  "set" | "get" | "eval" | "isOpen" | "isReady" | "connect" | "on" | "unref" | "destroy"
>;

/**
 * An idempotency store on Redis or Valkey: one `SET NX` to take a key, one `SET` to complete it, one `DEL`
 * when the handler failed; a `GET` more when the key is taken.
 */
export function redisStore(options: RedisStoreOptions = {}): IdempotencyStore {
  let connected: Promise<Client> | undefined;
  let current: Client | undefined;
  const client = async (): Promise<Client> => {
    // A client that closed for good (node-redis gave up reconnecting) is replaced; one that is reconnecting
    // stays, and its requests fail at once meanwhile (no offline queue).
    if (current && !current.isOpen) {
      if (options.client === undefined) current.destroy();
      connected = current = undefined;
    }
    connected ??= connect(options).then(
      (opened) => (current = opened),
      (error: unknown) => {
        connected = undefined;
        throw error;
      },
    );
    return connected;
  };
  return {
    kind: "redis",
    begin: async (key, lockUntilMs, expiresAtSeconds) => begin(await client(), key, lockUntilMs, expiresAtSeconds),
    complete: async (key, data, expiresAtSeconds, lockUntilMs) => {
      const record: StoredRecord = { status: "COMPLETED", expiration: expiresAtSeconds, data };
      const args = [String(lockUntilMs), JSON.stringify(record), String(expiresAtSeconds)];
      const done = await (await client()).eval(IF_LOCK_HELD, { keys: [key], arguments: args });
      if (done !== 1) throw new LockLostError(key);
    },
    release: async (key, lockUntilMs) =>
      void (await (await client()).eval(IF_LOCK_HELD, { keys: [key], arguments: [String(lockUntilMs)] })),
    close: async () => {
      const open = connected;
      connected = current = undefined;
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
    if (!given.isOpen) await within(given.connect(), "connecting to Redis");
    return given;
  }
  const redis = await importRedis();
  const created = redis.createClient({
    url: options.url ?? "redis://localhost:6379",
    // While disconnected, a request fails at once instead of waiting for a reconnection that may never come;
    // one that the server does not answer fails after the timeout, sent or not.
    disableOfflineQueue: true,
    commandOptions: { timeout: REQUEST_TIMEOUT_MS, rejectInFlight: true },
    socket: { connectTimeout: REQUEST_TIMEOUT_MS },
  }) as unknown as Client;
  // node-redis reconnects by itself; without a listener an 'error' event would end the thread. Requests made
  // meanwhile fail with their own error, which the message's outcome carries.
  created.on("error", () => undefined);
  try {
    await within(created.connect(), "connecting to Redis");
  } catch (error) {
    // A refused first connection is retried for ever by node-redis: stop it, and let the next request retry.
    created.destroy();
    throw error;
  }
  // An idle store must not keep a process (a test, a script that imports the receivers) alive.
  created.unref();
  return created;
}

/** `promise`, or a rejection after {@link REQUEST_TIMEOUT_MS} saying what did not finish. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`redis idempotency store: ${what} took over ${REQUEST_TIMEOUT_MS} ms`)),
      REQUEST_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const importRedis = optionalPackage(() => import("redis"), "redis", "redisStore()", "use another idempotency store");
