import type { StandardSchemaV1 } from "@standard-schema/spec";
import { SchemaValidationError, type SchemaIssue } from "./errors.js";

export type { StandardSchemaV1 } from "@standard-schema/spec";

/**
 * Checks `value` against a Standard Schema validator (zod, valibot, arktype, ...) and returns the schema's
 * output, or throws {@link SchemaValidationError} listing every issue by its path and reason.
 */
export async function validateWithSchema<Output>(
  schema: StandardSchemaV1<unknown, Output>,
  value: unknown,
  subject: string,
): Promise<Output> {
  const result = await schema["~standard"].validate(value);
  if (result.issues) throw new SchemaValidationError(subject, result.issues.map(toSchemaIssue));
  return result.value;
}

/**
 * An issue as sqsd reports it. Standard Schema gives only `message` and `path`, and the message is the
 * validator's free text, which may quote the value, so it is dropped. The reason is the validator's own code,
 * read by duck typing (zod's `code`, valibot's `type`, or another validator's `code`) and kept only when it
 * looks like a code.
 */
function toSchemaIssue(issue: StandardSchemaV1.Issue): SchemaIssue {
  const { code, type } = issue as { code?: unknown; type?: unknown };
  const reason = [code, type].find((value) => typeof value === "string" && CODE.test(value)) as string | undefined;
  return { path: formatPath(issue.path ?? []), reason: reason ?? "invalid" };
}

const CODE = /^[a-z][a-z0-9_]{0,39}$/i;
/** A key shown as it is in a path; others (keys of a record, taken from the body) show as `[?]`. */
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/** `$.items[2].sku`: array indexes in brackets, identifier keys after dots. */
function formatPath(path: readonly (PropertyKey | StandardSchemaV1.PathSegment)[]): string {
  let text = "$";
  for (const segment of path) {
    const key = typeof segment === "object" ? segment.key : segment;
    if (typeof key === "number") text += `[${key}]`;
    else if (typeof key === "string" && PLAIN_KEY.test(key)) text += `.${key}`;
    else text += "[?]";
  }
  return text;
}

/** True for anything that implements Standard Schema v1. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  const props = (value as { "~standard"?: { version?: unknown; validate?: unknown } })["~standard"];
  return props?.version === 1 && typeof props.validate === "function";
}
