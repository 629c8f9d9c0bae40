import { recordKey } from "./key.js";
import { DEFAULT_EXPIRES_AFTER_SECONDS, type IdempotencyOptions } from "./types.js";

/** What a guarded handler run came to (a handler that threw rejects instead, after its record was deleted). */
export type GuardedRun =
  /** The handler ran and its record is completed. `recordError` is set when completing it failed. */
  | { readonly kind: "ran"; readonly returned: unknown; readonly recordError?: unknown }
  /** A completed record exists: the handler did not run. */
  | { readonly kind: "duplicate" }
  /** Another delivery holds the key; try again in `retryAfterSeconds` (when its lock expires at the latest). */
  | { readonly kind: "inProgress"; readonly retryAfterSeconds: number };

/** The message fields a key function sees. */
export interface KeyedMessage {
  readonly id: string;
  readonly body: unknown;
}

/** Longest visibility SQS allows; a retry delay never exceeds it. */
const MAX_DELAY_SECONDS = 43_200;

/**
 * Runs `handler` at most once per key: takes the key in progress until `lockMs` from now (the delivery's own
 * deadline, so that a crashed replica's lock frees itself), runs the handler, and marks the record completed;
 * a handler that throws deletes the record, so that the retry runs, and its error is rethrown. A store that
 * fails before the handler ran rejects, and the handler does not run.
 */
export async function runOnce(
  options: IdempotencyOptions,
  defaultPrefix: string,
  message: KeyedMessage,
  lockMs: number,
  handler: () => Promise<unknown>,
): Promise<GuardedRun> {
  const { store } = options;
  const key = recordKey(options.keyPrefix ?? defaultPrefix, options.key ? options.key(message) : message.id);
  const expiresAtSeconds = (): number =>
    Math.round(Date.now() / 1000 + (options.expiresAfterSeconds ?? DEFAULT_EXPIRES_AFTER_SECONDS));
  const lockUntilMs = Date.now() + lockMs;
  const found = await store.begin(key, lockUntilMs, expiresAtSeconds());
  if (found.kind === "completed") return { kind: "duplicate" };
  if (found.kind === "inProgress") {
    const seconds = Math.ceil((found.untilMs - Date.now()) / 1000);
    return { kind: "inProgress", retryAfterSeconds: Math.min(MAX_DELAY_SECONDS, Math.max(1, seconds)) };
  }
  let returned: unknown;
  try {
    returned = await handler();
  } catch (error) {
    // The record goes, so that the retry runs. If deleting it fails too, the lock still frees itself at the
    // delivery's deadline, which is when SQS shows the message again anyway. Only this delivery's own lock
    // goes: if it ran out and another delivery took the key, that one's record stays.
    await store.release(key, lockUntilMs).catch(() => undefined);
    throw error;
  }
  try {
    const data = storable(returned, options.maxStoredResultBytes ?? 0);
    await store.complete(key, data, expiresAtSeconds(), lockUntilMs);
    return { kind: "ran", returned };
  } catch (recordError) {
    // The effect happened: the message is settled as done all the same (a rerun would repeat the effect), and
    // the in-progress record keeps duplicates away until the lock expires. A lost lock (another delivery holds
    // the key now) lands here too: its record is left to that delivery.
    return { kind: "ran", returned, recordError };
  }
}

/** The handler's result if it is JSON within `maxBytes`, else `undefined` (nothing kept). */
function storable(value: unknown, maxBytes: number): unknown {
  if (maxBytes <= 0 || value === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return undefined;
  }
  if (json === undefined || Buffer.byteLength(json) > maxBytes) return undefined;
  return JSON.parse(json) as unknown;
}
