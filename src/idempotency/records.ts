import type { BeginResult } from "./types.js";

/** One idempotency record in Powertools' shape, as the memory and Redis stores keep it. */
export interface StoredRecord {
  readonly status: "INPROGRESS" | "COMPLETED";
  /** The record's expiry, epoch seconds (Powertools' `expiration`). */
  readonly expiration: number;
  /** The in-progress lock's expiry, epoch ms (Powertools' `in_progress_expiration`). */
  readonly in_progress_expiration?: number;
  /** The handler's stored result (Powertools' `data`). */
  readonly data?: unknown;
}

/**
 * What an existing record means for a new delivery, by the rule of Powertools' conditional put: a record
 * blocks only while it has not expired and, in progress, while its lock has not. `undefined`: it blocks nothing.
 */
export function blockedBy(record: StoredRecord | undefined, nowMs: number): BeginResult | undefined {
  if (!record || record.expiration < nowMs / 1000) return undefined;
  if (record.status === "COMPLETED") return { kind: "completed", data: record.data };
  // A record without a lock expiry (Powertools without a Lambda context writes one) holds until it expires.
  const until = record.in_progress_expiration ?? record.expiration * 1000;
  return until >= nowMs ? { kind: "inProgress", untilMs: until } : undefined;
}
