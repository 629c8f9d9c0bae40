/**
 * How a failed AWS request is classified, which decides what its caller does next: retry soon, back off,
 * wait long for a fix (credentials), or give up. One rule for every caller (pollers, acker, schedules, admin
 * commands), by AWS error code and HTTP status, never by message text.
 */
import { SqsRequestError } from "./errors.js";

/** AWS error codes that mean "slow down": worth retrying after a pause. */
const THROTTLING_CODES = new Set([
  "ThrottlingException",
  "Throttling",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "KmsThrottled",
]);

/** AWS error codes that mean the credentials or permissions are wrong: no retry soon will fix them. */
const AUTH_CODES = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "InvalidSecurity",
  "CredentialsProviderError",
]);

/**
 * What kind of failure a request met, which decides how long to wait before the next one:
 * - `transient`: network failures (no HTTP status) and server faults (5xx); retry soon, backing off;
 * - `throttle`: SQS asked this client to slow down;
 * - `auth`: credentials or permissions are wrong; retrying soon only floods the log;
 * - `client`: the request itself is wrong (a missing queue, bad input); it fails the same way every time.
 */
export type FailureKind = "transient" | "throttle" | "auth" | "client";

/** Classifies a failed request by its AWS error code and HTTP status. */
export function failureKind(error: unknown): FailureKind {
  const request = error instanceof SqsRequestError ? error : new SqsRequestError("request", error);
  const code = request.awsCode ?? "";
  if (THROTTLING_CODES.has(code) || request.httpStatus === 429) return "throttle";
  if (
    AUTH_CODES.has(code) ||
    AUTH_CODES.has(innerName(error)) ||
    request.httpStatus === 401 ||
    request.httpStatus === 403
  ) {
    return "auth";
  }
  return request.httpStatus === undefined || request.httpStatus >= 500 ? "transient" : "client";
}

/**
 * True when retrying the same request later can succeed: network failures (no HTTP status), server faults
 * (5xx) and throttling. Client errors (bad input, missing queue, denied access) fail the same way every time.
 */
export function isRetryable(error: unknown): boolean {
  const kind = failureKind(error);
  return kind === "transient" || kind === "throttle";
}

/** The name of the error an SqsRequestError wraps (a credentials error has no AWS code). */
function innerName(error: unknown): string {
  const cause = error instanceof SqsRequestError ? error.cause : error;
  return cause instanceof Error ? cause.name : "";
}
