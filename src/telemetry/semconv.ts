/**
 * The span names and attributes sqsd writes, after OpenTelemetry's messaging semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/messaging/), plus a few `sqsd.*` ones of its own.
 * docs/observability.md explains each; keep the two in step.
 */
import { trace, type Tracer } from "@opentelemetry/api";

/** The instrumentation scope of every span sqsd starts. */
export const TRACER_NAME = "sqsd";

/** Attribute keys. */
export const ATTR = {
  system: "messaging.system",
  destination: "messaging.destination.name",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  messageId: "messaging.message.id",
  batchMessageCount: "messaging.batch.message_count",
  errorType: "error.type",
  /** The queue's registered name (the destination is its full name, prefix and suffix included). */
  queue: "sqsd.queue",
  /** SQS's ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: "sqsd.receive_count",
  /** `ok`, `restartLater`, `failed` (and `mixed` for a batch whose messages differ). */
  outcome: "sqsd.outcome",
  /** Where a failed run failed: setup, decode, handler, timeout, crash. */
  failurePhase: "sqsd.failure_phase",
  /**
   * False when a send's message (for a batch: at least one) had no room for the trace context: no attribute
   * slot left (SQS allows 10 per message), or not the bytes within the queue's MaximumMessageSize.
   */
  contextInjected: "sqsd.trace_context.injected",
} as const;

/** `messaging.system` for SQS. */
export const AWS_SQS = "aws_sqs";

/** The tracer from whatever provider the app registered; a no-op one (nothing recorded) when none is. */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Where `@opentelemetry/api` (major version 1) keeps what an app registered globally. */
const OPENTELEMETRY_GLOBALS = Symbol.for("opentelemetry.js.api.1");

/**
 * Whether an app registered a tracer provider with the OpenTelemetry API (its `telemetry.setup`, or an SDK
 * registered some other way). Without one, {@link tracer} is the API's no-op: every span records nothing and
 * carries its parent's context.
 */
export function tracerProviderRegistered(): boolean {
  const globals = (globalThis as { [OPENTELEMETRY_GLOBALS]?: { readonly trace?: unknown } })[OPENTELEMETRY_GLOBALS];
  return globals?.trace !== undefined;
}
