import { createHash } from "node:crypto";

/**
 * The stored key of an idempotency record, as Powertools' `BasePersistenceLayer` builds it: the prefix, `#`,
 * then the base64 MD5 of the key value's JSON with object keys sorted case-insensitively at every depth. The
 * same value under the same prefix is the same record for sqsd and for a Lambda function using Powertools.
 */
export function recordKey(prefix: string, value: unknown): string {
  const hash = createHash("md5")
    .update(JSON.stringify(sortKeys(value)))
    .digest("base64");
  return `${prefix}#${hash}`;
}

/** Powertools' `deepSort`: plain objects get their keys sorted (case-insensitive, as it compares). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a.toLowerCase() < b.toLowerCase() ? -1 : 1,
  );
  return Object.fromEntries(entries.map(([name, inner]) => [name, sortKeys(inner)]));
}
