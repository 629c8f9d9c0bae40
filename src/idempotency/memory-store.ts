import { BroadcastChannel, isMainThread, threadId } from "node:worker_threads";
import { warn } from "../warnings.js";
import { blockedBy, type StoredRecord } from "./records.js";
import { LockLostError, type BeginResult, type IdempotencyStore } from "./types.js";

/**
 * The in-memory store lives in the main thread (the supervisor), which imports the receiver modules first:
 * pool threads ask it over a BroadcastChannel, so that every thread of the process sees the same records. It
 * holds in one process only: records are lost on restart and other replicas never see them. sqsd warns at
 * start-up when a receiver uses it.
 */
type Request =
  | { readonly from: number; readonly id: number; readonly op: "begin"; readonly args: [string, number, number] }
  | {
      readonly from: number;
      readonly id: number;
      readonly op: "complete";
      readonly args: [string, unknown, number, number];
    }
  | { readonly from: number; readonly id: number; readonly op: "release"; readonly args: [string, number] };

type Response = { readonly to: number; readonly id: number; readonly result?: unknown; readonly error?: string };

/** How long a thread waits for the main thread's answer before its request fails. */
const ANSWER_TIMEOUT_MS = 10_000;

/** Records by key, one map per store name in this process's main thread. */
class MemoryRecords {
  readonly #records = new Map<string, StoredRecord>();
  #begins = 0;

  begin(key: string, lockUntilMs: number, expiresAtSeconds: number): BeginResult {
    const now = Date.now();
    if (++this.#begins % 1024 === 0) this.#sweep(now);
    const blocked = blockedBy(this.#records.get(key), now);
    if (blocked) return blocked;
    this.#records.set(key, { status: "INPROGRESS", expiration: expiresAtSeconds, in_progress_expiration: lockUntilMs });
    return { kind: "acquired" };
  }

  complete(key: string, data: unknown, expiresAtSeconds: number, lockUntilMs: number): void {
    if (!this.#holds(key, lockUntilMs)) throw new LockLostError(key);
    this.#records.set(key, {
      status: "COMPLETED",
      expiration: expiresAtSeconds,
      ...(data === undefined ? {} : { data }),
    });
  }

  release(key: string, lockUntilMs: number): void {
    if (this.#holds(key, lockUntilMs)) this.#records.delete(key);
  }

  /** True while `key`'s record is the in-progress lock taken until `lockUntilMs`. */
  #holds(key: string, lockUntilMs: number): boolean {
    const record = this.#records.get(key);
    return record?.status === "INPROGRESS" && record.in_progress_expiration === lockUntilMs;
  }

  /** Drops expired records, so that the map stays as large as the records that still count. */
  #sweep(now: number): void {
    for (const [key, record] of this.#records) if (record.expiration < now / 1000) this.#records.delete(key);
  }
}

const mainRecords = new Map<string, MemoryRecords>();

/** The main thread's records of `name`, answering the pool threads' requests from the first use. */
function recordsOf(name: string): MemoryRecords {
  let records = mainRecords.get(name);
  if (records) return records;
  const created = new MemoryRecords();
  const channel = new BroadcastChannel(channelName(name));
  // The channel must not keep the daemon (or a test) alive on its own.
  channel.unref();
  channel.onmessage = (event) => {
    const request = (event as { data: Request | Response }).data;
    if (!("op" in request)) return;
    const answer = (result: unknown): void => channel.postMessage({ to: request.from, id: request.id, result });
    try {
      if (request.op === "begin") answer(created.begin(request.args[0], request.args[1], request.args[2]));
      else if (request.op === "complete") answer(created.complete(...request.args));
      else answer(created.release(...request.args));
    } catch (error) {
      channel.postMessage({ to: request.from, id: request.id, error: String(error) });
    }
  };
  mainRecords.set(name, created);
  records = created;
  return records;
}

function channelName(name: string): string {
  return `sqsd-idempotency-memory:${name}`;
}

/** A pool thread's end: each request goes to the main thread and waits for its answer. */
class ThreadClient {
  readonly #channel: BroadcastChannel;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 0;

  constructor(name: string) {
    this.#channel = new BroadcastChannel(channelName(name));
    this.#channel.unref();
    this.#channel.onmessage = (event) => {
      const response = (event as { data: Request | Response }).data;
      if ("op" in response || response.to !== threadId) return;
      const waiting = this.#waiting.get(response.id);
      this.#waiting.delete(response.id);
      if (response.error !== undefined) waiting?.reject(new Error(`memory idempotency store: ${response.error}`));
      else waiting?.resolve(response.result);
    };
  }

  ask(op: Request["op"], args: Request["args"]): Promise<unknown> {
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(
          new Error(
            "memory idempotency store: the main thread did not answer (is the receiver module imported there?)",
          ),
        );
      }, ANSWER_TIMEOUT_MS);
      this.#waiting.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      this.#channel.postMessage({ from: threadId, id, op, args });
    });
  }
}

/**
 * An idempotency store in this process's memory: for development, tests and single-process deployments. It
 * holds across the pool's threads (they ask the main thread), not across replicas or restarts.
 * @param name - Stores of different names keep separate records. @defaultValue `"default"`
 */
export function memoryStore(name = "default"): IdempotencyStore {
  if (isMainThread) {
    if (!mainRecords.has(name)) {
      warn(
        `memoryStore("${name}") keeps idempotency records in this process only: other replicas do not see them and a restart loses them; use redisStore() or dynamoDbStore() with several replicas`,
        "SQSD_MEMORY_IDEMPOTENCY",
      );
    }
    const records = (): MemoryRecords => recordsOf(name);
    // Created at once, so that the channel answers threads before the main thread's first own request.
    records();
    return {
      kind: "memory",
      begin: async (key, lockUntilMs, expiresAtSeconds) => records().begin(key, lockUntilMs, expiresAtSeconds),
      complete: async (key, data, expiresAtSeconds, lockUntilMs) =>
        records().complete(key, data, expiresAtSeconds, lockUntilMs),
      release: async (key, lockUntilMs) => records().release(key, lockUntilMs),
    };
  }
  let client: ThreadClient | undefined;
  const ask = (op: Request["op"], args: Request["args"]): Promise<unknown> => {
    client ??= new ThreadClient(name);
    return client.ask(op, args);
  };
  return {
    kind: "memory",
    begin: async (key, lockUntilMs, expiresAtSeconds) =>
      (await ask("begin", [key, lockUntilMs, expiresAtSeconds])) as BeginResult,
    complete: async (key, data, expiresAtSeconds, lockUntilMs) =>
      void (await ask("complete", [key, data, expiresAtSeconds, lockUntilMs])),
    release: async (key, lockUntilMs) => void (await ask("release", [key, lockUntilMs])),
  };
}
