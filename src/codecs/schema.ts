import type { StandardSchemaV1 } from "@standard-schema/spec";
import { SchemaValidationError } from "./errors.js";

export type { StandardSchemaV1 } from "@standard-schema/spec";

/**
 * Checks `value` against a Standard Schema validator (zod, valibot, arktype, ...) and returns the schema's
 * output, or throws {@link SchemaValidationError} listing every issue as `path: message`.
 */
export async function validateWithSchema<Output>(
  schema: StandardSchemaV1<unknown, Output>,
  value: unknown,
  subject: string,
): Promise<Output> {
  const result = await schema["~standard"].validate(value);
  if (result.issues) throw new SchemaValidationError(subject, result.issues.map(formatIssue));
  return result.value;
}

function formatIssue(issue: StandardSchemaV1.Issue): string {
  const path = (issue.path ?? [])
    .map((segment) => (typeof segment === "object" ? segment.key : segment))
    .map(String)
    .join(".");
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}

/** True for anything that implements Standard Schema v1. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  const props = (value as { "~standard"?: { version?: unknown; validate?: unknown } })["~standard"];
  return props?.version === 1 && typeof props.validate === "function";
}
