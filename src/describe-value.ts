/**
 * How sqsd's messages show a value a user gave: by its kind (`a string`, `an object`) where the value itself
 * could hold a secret, and shortened where it may be long. Error classes and config rules word their messages
 * with these.
 */

/**
 * What kind of value this is, in words (`a string`, `an object`), for messages that must not show the value
 * itself.
 */
export function kindOfValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
}

/**
 * A received value as messages show it. Scalars are shown as they are; a non-empty object or array only by
 * its kind, since it may hold a key sqsd does not know, and so a secret.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null && Object.keys(value).length > 0) {
    return Array.isArray(value) ? `an array of ${value.length}` : "an object";
  }
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    // BigInt values cannot be stringified; their type still tells the user what went wrong.
    return `a ${typeof value}`;
  }
}
