/**
 * The producer's half of tracing: a `send` span around each `send()`/`sendBatch()`, and its context written
 * into each message's attributes so that the daemon continues the trace. producer.ts calls this module and
 * nothing else of telemetry.
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { MessageAttributeValue } from "@aws-sdk/client-sqs";
import { SQS_LIMITS } from "../limits.js";
import { warn } from "../warnings.js";
import { safely, UNTRACED_SPAN } from "./safe.js";
import { ATTR, AWS_SQS, tracer } from "./semconv.js";
import { toCarrier, TRACEPARENT, TRACESTATE, type TraceCarrier } from "./trace-context.js";

/** What a finished send says about itself, for the span. */
export interface SendReport {
  /** The message id, for a single send that succeeded. */
  readonly messageId?: string | undefined;
  /** The first error of a batch whose messages failed in part (a single send's error is thrown instead). */
  readonly error?: Error | undefined;
}

/**
 * Runs `run` inside a `send <destination>` span (kind PRODUCER, child of the active context, so the caller's
 * request span is its parent). `run` gets the span's context as strings, to put on each message it sends.
 * `messageCount` is set for `sendBatch()`; one `send()` is one message.
 */
export async function tracedSend<R>(
  destination: string,
  messageCount: number | undefined,
  run: (carrier: TraceCarrier | undefined) => Promise<R>,
  report: (result: R) => SendReport,
): Promise<R> {
  const span = safely("start a send span", UNTRACED_SPAN, () =>
    tracer().startSpan(`send ${destination}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTR.system]: AWS_SQS,
        [ATTR.destination]: destination,
        [ATTR.operationType]: "send",
        [ATTR.operationName]: "send",
        ...(messageCount === undefined ? {} : { [ATTR.batchMessageCount]: messageCount }),
      },
    }),
  );
  const carrier = safely("read a send span's context", undefined, () => toCarrier(span.spanContext()));
  try {
    // Active while the request runs, so an instrumented AWS SDK's own HTTP span nests under `send`.
    const result = await context.with(trace.setSpan(context.active(), span), () => run(carrier));
    safely("describe a send span", undefined, () => {
      const { messageId, error } = report(result);
      if (messageId !== undefined) span.setAttribute(ATTR.messageId, messageId);
      if (error) markFailed(span, error);
    });
    return result;
  } catch (error) {
    safely("describe a send span", undefined, () => markFailed(span, error));
    throw error;
  } finally {
    safely("end a send span", undefined, () => span.end());
  }
}

function markFailed(span: Span, error: unknown): void {
  const name = error instanceof Error ? error.name : "Error";
  span.setAttribute(ATTR.errorType, name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** Queues already warned that their messages leave no attribute slot for the trace context. */
const warnedFull = new Set<string>();

/**
 * The message attributes with the trace context added: `traceparent`, then `tracestate` if there is one and
 * a slot for it. SQS refuses a message with more than 10 attributes, so the user's own always win: with one
 * slot left only `traceparent` goes (the trace continues, vendor state is lost), with none the message goes
 * untraced (the consumer starts a new trace) and a warning says so once per queue. A `traceparent` the
 * caller set is kept as it is.
 */
export function withTraceAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
  carrier: TraceCarrier | undefined,
  destination: string,
): Record<string, MessageAttributeValue> | undefined {
  if (!carrier || attributes?.[TRACEPARENT] !== undefined) return attributes;
  const room = SQS_LIMITS.maxMessageAttributes - Object.keys(attributes ?? {}).length;
  if (room < 1) {
    trace.getActiveSpan()?.setAttribute(ATTR.contextInjected, false);
    if (!warnedFull.has(destination)) {
      warnedFull.add(destination);
      warn(
        `messages to ${destination} carry ${SQS_LIMITS.maxMessageAttributes} message attributes, SQS's limit: the trace context is not sent with them, and their traces stop at send`,
        "SQSD_TRACE_CONTEXT_NO_ROOM",
      );
    }
    return attributes;
  }
  const traced: Record<string, MessageAttributeValue> = {
    ...attributes,
    [TRACEPARENT]: { DataType: "String", StringValue: carrier.traceparent },
  };
  if (carrier.tracestate !== undefined && room >= 2) {
    traced[TRACESTATE] = { DataType: "String", StringValue: carrier.tracestate };
  }
  return traced;
}
