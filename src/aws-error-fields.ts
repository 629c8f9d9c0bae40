/**
 * What an AWS SDK error carries, read without trusting its shape: the AWS error code and the HTTP status of
 * the response. The error classes record them, and failure-kind.ts classifies by them.
 */

/** The AWS error code (`Code`, else the error's `name`, e.g. `ThrottlingException`), if there is one. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { Code, name } = error as { Code?: unknown; name?: unknown };
  if (typeof Code === "string") return Code;
  return typeof name === "string" ? name : undefined;
}

/** The HTTP status of the response the error came with, if there was one. */
export function awsHttpStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  return typeof metadata?.httpStatusCode === "number" ? metadata.httpStatusCode : undefined;
}
