import { SQSServiceException } from "@aws-sdk/client-sqs";
import { NormalizedSchema, TypeRegistry } from "@smithy/core/schema";
import type { ResponseMetadata, StaticErrorSchema } from "@smithy/types";
import { headerValue, parseJson } from "./retry.js";

/**
 * SQS's error responses, read the way the SDK's AWS JSON protocol reads them for a service marked
 * `awsQueryCompatible` (SQS is): the code from the `x-amzn-query-error` header (`Code;Type`) first, then
 * `x-amzn-errortype`, then the body's `__type`; the error class the SDK's own registry has for that name or
 * for that query error code; and the same fields on it (`Code`, `Type`, `Error`, `$fault`, `$metadata`). So
 * `SqsRequestError` derives the same `awsCode` and `httpStatus` from it, and `instanceof QueueDoesNotExist`
 * holds, whichever transport made the request.
 */

/** The namespace SQS's modeled errors are registered under by `@aws-sdk/client-sqs`. */
const SQS_NAMESPACE = "com.amazonaws.sqs";

/** What an error response looked like on the wire. */
export interface ErrorResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** An SDK service exception for an SQS error response, as `@aws-sdk/client-sqs` would throw it. */
export function serviceError(response: ErrorResponse, metadata: ResponseMetadata): SQSServiceException {
  const data = parseJson(response.body);
  const queryError = headerValue(response.headers, "x-amzn-query-error");
  if (queryError !== undefined) {
    const [Code, Type] = queryError.split(";");
    const error: Record<string, unknown> = { Code, Type };
    for (const [key, value] of Object.entries(data)) error[key === "message" ? "Message" : key] = value;
    delete error["__type"];
    Object.assign(data, { Code, Type, Error: error });
  }
  const identifier = errorCode(response.headers, data) ?? "Unknown";
  const errorName = identifier.includes("#") ? (identifier.split("#")[1] ?? identifier) : identifier;
  const fault = response.statusCode < 500 ? "client" : "server";
  const message = stringField(data, "message") ?? stringField(data, "Message") ?? "UnknownError";
  const schema = modeledError(errorName);
  let exception: SQSServiceException;
  if (schema === undefined) {
    exception = new SQSServiceException({ name: errorName, $fault: fault, $metadata: metadata });
  } else {
    const registry = TypeRegistry.for(SQS_NAMESPACE);
    const ErrorClass = registry.getErrorCtor(schema) as new (options: object) => SQSServiceException;
    exception = new ErrorClass({});
    const ns = NormalizedSchema.of(schema);
    Object.assign(exception, { $metadata: metadata, $fault: ns.getMergedTraits().error ?? fault, message });
    // The error shape's own members (SQS's are all plain strings).
    for (const [name] of ns.structIterator()) if (data[name] != null) Object.assign(exception, { [name]: data[name] });
    for (const key of ["Error", "Type", "Code"]) if (data[key]) Object.assign(exception, { [key]: data[key] });
  }
  decorate(exception, data);
  // As the SDK's deserializer leaves it: the response, for the retry strategy's Retry-After hint and clock skew.
  Object.defineProperty(exception, "$response", {
    value: { statusCode: response.statusCode, headers: response.headers, body: response.body },
    enumerable: false,
    configurable: true,
  });
  return exception;
}

/** The error's name from the response: `loadJsonRpcErrorCode` with the query-compatible order. */
export function errorCode(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  data: Readonly<Record<string, unknown>>,
): string | undefined {
  const codeKey = Object.keys(data).find((key) => key.toLowerCase() === "code");
  if (codeKey !== undefined && data[codeKey] !== undefined) return sanitize(data[codeKey]);
  const typeHeader = headerValue(headers, "x-amzn-errortype");
  if (typeHeader !== undefined) return sanitize(typeHeader);
  return data["__type"] === undefined ? undefined : sanitize(data["__type"]);
}

function sanitize(raw: unknown): string {
  let value = typeof raw === "number" ? String(raw) : String(raw);
  if (value.includes(",")) value = value.split(",")[0] ?? value;
  if (value.includes(":")) value = value.split(":")[0] ?? value;
  if (value.includes("#")) value = value.split("#")[1] ?? value;
  return value;
}

/** The modeled error by shape name, else by its awsQueryError code (`AWS.SimpleQueueService.NonExistentQueue`). */
function modeledError(errorName: string): StaticErrorSchema | undefined {
  const registry = TypeRegistry.for(SQS_NAMESPACE);
  try {
    return registry.getSchema(errorName) as StaticErrorSchema;
  } catch {
    // Not a shape name: SQS's query-compatible codes name the shape through the awsQueryError trait.
    return registry.find((schema) => queryErrorCode(NormalizedSchema.of(schema).getMergedTraits()) === errorName) as
      StaticErrorSchema | undefined;
  }
}

function queryErrorCode(traits: Readonly<Record<string, unknown>>): unknown {
  const trait = traits["awsQueryError"];
  return Array.isArray(trait) ? trait[0] : undefined;
}

/** `decorateServiceException` in its query-compatible form: fields of the body the exception lacks, and `Error`. */
function decorate(exception: SQSServiceException, data: Record<string, unknown>): void {
  const target = exception as unknown as Record<string, unknown>;
  const queryMessage = target["Message"] ?? data["Message"];
  for (const [key, value] of Object.entries(data)) {
    if (value !== undefined && (target[key] == undefined || target[key] === "")) target[key] = value;
  }
  exception.message = exception.message || (target["Message"] as string | undefined) || "UnknownError";
  delete target["Message"];
  if (typeof queryMessage === "string" && queryMessage) exception.message = queryMessage;
  const error = (target["Error"] ?? {}) as Record<string, unknown>;
  error["Message"] = error["message"] ?? error["Message"] ?? queryMessage;
  target["Error"] = error;
  const requestId = exception.$metadata.requestId;
  if (requestId) target["RequestId"] = requestId;
}

function stringField(data: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = data[key];
  return typeof value === "string" ? value : undefined;
}
