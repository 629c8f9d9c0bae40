import { isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";
import type { HttpResponse, ResponseMetadata, RetryErrorType, RetryStrategy, RetryStrategyV2 } from "@smithy/types";
import { abortError, type WireResponse } from "./http.js";

/** The pieces of the SDK's retry middleware (`@smithy/core/retry`) the lean path's retry loop repeats. */

/** The retry middleware's classification, from the SDK's own predicates. */
export function retryErrorType(error: Error): RetryErrorType {
  const sdkError = error as Parameters<typeof isThrottlingError>[0];
  if (isThrottlingError(sdkError)) return "THROTTLING";
  if (isTransientError(sdkError)) return "TRANSIENT";
  if (isServerError(sdkError)) return "SERVER_ERROR";
  return "CLIENT_ERROR";
}

/** A response header's value; the first, when it came more than once. */
export function headerValue(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The SDK's `$metadata` for a response (without `attempts` and `totalRetryDelay`). */
export function responseMetadata(response: WireResponse): ResponseMetadata {
  const { headers } = response;
  const metadata: ResponseMetadata = { httpStatusCode: response.statusCode };
  const requestId =
    headerValue(headers, "x-amzn-requestid") ??
    headerValue(headers, "x-amzn-request-id") ??
    headerValue(headers, "x-amz-request-id");
  if (requestId !== undefined) metadata.requestId = requestId;
  const extendedRequestId = headerValue(headers, "x-amz-id-2");
  if (extendedRequestId !== undefined) metadata.extendedRequestId = extendedRequestId;
  const cfId = headerValue(headers, "x-amz-cf-id");
  if (cfId !== undefined) metadata.cfId = cfId;
  return metadata;
}

export function isRetryStrategyV2(strategy: RetryStrategyV2 | RetryStrategy): strategy is RetryStrategyV2 {
  return (
    "acquireInitialRetryToken" in strategy && "refreshRetryTokenForRetry" in strategy && "recordSuccess" in strategy
  );
}

/**
 * A response body as a JSON object ({} for an empty one). One that is not JSON throws a SyntaxError, as the
 * SDK's deserializer does (so a proxy's 503 page still classifies as a server fault), but with a fixed message:
 * JSON.parse's own quotes the text around the error, which in a ReceiveMessage answer is message bodies, and
 * the message reaches the logs.
 */
export function parseJson(body: string): Record<string, unknown> {
  // An empty receive's answer, the one an idle daemon reads most: no parse, no trim.
  if (body === "{}") return {};
  if (body.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new SyntaxError(`the response body is not valid JSON (${Buffer.byteLength(body)} bytes)`);
  }
  return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/** The retry middleware's `race`: settles with the promise, or rejects with an AbortError once aborted. */
export function race<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  let cleanup = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener("abort", onAbort, { once: true });
      cleanup = () => signal.removeEventListener("abort", onAbort);
    }
  });
  return Promise.race([promise, aborted]).finally(cleanup);
}

/** The response as the SDK's errors carry it (`$response`), for the Retry-After hint: status and headers. */
export function wireToHttpResponse(response: WireResponse): HttpResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return { statusCode: response.statusCode, headers, body: response.body };
}

/** A clock further off than this is corrected from the server's Date header, as the SDK's signer does. */
const CLOCK_SKEW_MS = 300_000;

/** The clock offset to sign with from now on, when the response's Date shows this one skewed; else undefined. */
export function correctedClockOffset(response: WireResponse, offsetMs: number): number | undefined {
  const date = response.headers.date;
  if (!date) return undefined;
  const serverTime = Date.parse(date);
  if (Number.isNaN(serverTime) || Math.abs(Date.now() + offsetMs - serverTime) < CLOCK_SKEW_MS) return undefined;
  return serverTime - Date.now();
}
