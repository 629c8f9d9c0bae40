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

/** One send's trace, for {@link withTraceAttributes}: the context to write, and the span to mark. */
export interface SendTrace {
  /** The `send` span's context as strings. */
  readonly carrier: TraceCarrier;
  /** The `send` span, marked when a message goes without the context. */
  readonly span: Span;
  /** The queue's registered name (no prefix or suffix): warnings are once per queue, whatever the suffixes. */
  readonly queue: string;
  /** The queue's full name, for the warning's text. */
  readonly destination: string;
}

/**
 * Runs `run` inside a `send <destination>` span (kind PRODUCER, child of the active context, so the caller's
 * request span is its parent). `run` gets the span and its context, to put on each message it sends
 * (undefined when nothing is traced). `messageCount` is set for `sendBatch()`; one `send()` is one message.
 */
export async function tracedSend<R>(
  destination: string,
  queue: string,
  messageCount: number | undefined,
  run: (trace: SendTrace | undefined) => Promise<R>,
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
  const sendTrace = carrier ? { carrier, span, queue, destination } : undefined;
  try {
    // Active while the request runs, so an instrumented AWS SDK's own HTTP span nests under `send`.
    const result = await context.with(trace.setSpan(context.active(), span), () => run(sendTrace));
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

/** Registered queues already warned that their messages leave no room for the trace context. */
const warnedFull = new Set<string>();

/** A message's attributes and its size as SQS counts it (body and attributes). */
export interface SizedAttributes {
  readonly attributes: Record<string, MessageAttributeValue> | undefined;
  readonly bytes: number;
}

/**
 * The message attributes with the trace context added, where it fits: `traceparent`, then `tracestate` if
 * there is one. Called once the message is otherwise final (encoded, offloaded, size-checked), so that
 * tracing never makes a message too large or refused: the context goes only where there is room, both in
 * SQS's 10 attributes and in `maxBytes` (the queue's MaximumMessageSize), and the user's own attributes and
 * body always win. With room for one, only `traceparent` goes (the trace continues, vendor state is lost);
 * with none, the message goes untraced (the consumer starts a new trace), the `send` span gets
 * `sqsd.trace_context.injected = false`, and a warning says so once per queue. A `traceparent` or
 * `tracestate` the caller set is kept as it is (with a `tracestate` of theirs only `traceparent` is added).
 */
export function withTraceAttributes(
  message: SizedAttributes,
  sendTrace: SendTrace | undefined,
  maxBytes: number,
): SizedAttributes {
  const { attributes } = message;
  if (!sendTrace || attributes?.[TRACEPARENT] !== undefined) return message;
  let slots = SQS_LIMITS.maxMessageAttributes - Object.keys(attributes ?? {}).length;
  let bytes = message.bytes;
  const added: Record<string, MessageAttributeValue> = {};
  const add = (name: string, value: string): boolean => {
    const size = stringAttributeBytes(name, value);
    if (slots < 1 || bytes + size > maxBytes) return false;
    added[name] = { DataType: "String", StringValue: value };
    slots -= 1;
    bytes += size;
    return true;
  };
  const { carrier } = sendTrace;
  if (!add(TRACEPARENT, carrier.traceparent)) {
    noRoom(sendTrace);
    return message;
  }
  if (carrier.tracestate !== undefined && attributes?.[TRACESTATE] === undefined) add(TRACESTATE, carrier.tracestate);
  return { attributes: { ...attributes, ...added }, bytes };
}

/** The size SQS counts for a String attribute: its name, data type and value. */
function stringAttributeBytes(name: string, value: string): number {
  return Buffer.byteLength(name, "utf8") + "String".length + Buffer.byteLength(value, "utf8");
}

/** A message goes untraced: its send span says so (for a batch: at least one of its messages), and a warning. */
function noRoom(sendTrace: SendTrace): void {
  safely("describe a send span", undefined, () => sendTrace.span.setAttribute(ATTR.contextInjected, false));
  if (warnedFull.has(sendTrace.queue)) return;
  warnedFull.add(sendTrace.queue);
  warn(
    `a message to ${sendTrace.destination} leaves no room for the trace context (its attributes take SQS's ${SQS_LIMITS.maxMessageAttributes}, or the message is within about 100 bytes of the queue's MaximumMessageSize): it goes without, and its trace stops at send (reported once for queue ${sendTrace.queue})`,
    "SQSD_TRACE_CONTEXT_NO_ROOM",
  );
}
