/**
 * Trace context on SQS messages, written and read by sqsd itself rather than by the global propagator: the
 * wire format is fixed (W3C `traceparent`/`tracestate` message attributes, or X-Ray's `AWSTraceHeader` system
 * attribute), whatever propagators an app registered for its HTTP traffic, and a B3 or Jaeger propagator must
 * not spend the message's scarce attribute slots. Pure functions of strings: no SDK needed.
 */
import { createTraceState, isSpanContextValid, TraceFlags, type SpanContext } from "@opentelemetry/api";

/** The message attribute the W3C `traceparent` (trace id, parent span id, flags) travels under. */
export const TRACEPARENT = "traceparent";
/** The message attribute the W3C `tracestate` (vendors' entries, optional) travels under. */
export const TRACESTATE = "tracestate";
/** The system attribute AWS services (X-Ray, Lambda, API Gateway, SNS) carry their trace header in. */
export const AWS_TRACE_HEADER = "AWSTraceHeader";

/** A span context as it crosses a boundary (message attributes, the thread protocol): plain strings. */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/**
 * version-traceId-spanId-flags, and for a version above 00 whatever a later version appends after a dash.
 * W3C: a parser SHOULD read the first four fields of a version it does not know, refuse version ff, and
 * refuse a version 00 value longer than its 55 characters.
 */
const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The W3C `traceparent` (version 00) of a span context. */
export function formatTraceparent(context: SpanContext): string {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/** A span context as plain strings; undefined for an invalid one (no SDK, nothing to continue). */
export function toCarrier(context: SpanContext): TraceCarrier | undefined {
  if (!isSpanContextValid(context)) return undefined;
  const tracestate = context.traceState?.serialize();
  return { traceparent: formatTraceparent(context), ...(tracestate ? { tracestate } : {}) };
}

/** The remote span context a carrier names; undefined when `traceparent` is missing or malformed. */
export function fromCarrier(carrier: Partial<TraceCarrier> | undefined): SpanContext | undefined {
  const match = TRACEPARENT_PATTERN.exec(carrier?.traceparent?.trim() ?? "");
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  const context: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: Number.parseInt(flags!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(carrier?.tracestate ? { traceState: createTraceState(carrier.tracestate) } : {}),
  };
  return isSpanContextValid(context) ? context : undefined;
}

/**
 * The span context in an X-Ray trace header (`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;
 * Sampled=1`): X-Ray's trace id is the W3C one with its time part split off, so the trace continues as is.
 * Undefined when it names no parent (a header with only a root cannot be continued as a child).
 */
export function fromAwsTraceHeader(header: string | undefined): SpanContext | undefined {
  if (!header) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.split(";")) {
    const equals = part.indexOf("=");
    if (equals > 0) fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const root = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/.exec(fields.get("Root") ?? "");
  const parent = fields.get("Parent") ?? "";
  if (!root || !/^[0-9a-f]{16}$/.test(parent)) return undefined;
  const context: SpanContext = {
    traceId: `${root[1]!}${root[2]!}`,
    spanId: parent,
    traceFlags: fields.get("Sampled") === "1" ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
  return isSpanContextValid(context) ? context : undefined;
}

/** A received message's attributes, in the AWS SDK's shape (the supervisor reads them before anything else). */
interface ReceivedAttributes {
  readonly Attributes?: Partial<Record<string, string>> | undefined;
  readonly MessageAttributes?: Readonly<Record<string, { readonly StringValue?: string | undefined }>> | undefined;
}

/**
 * The producer's span context on a received message: its `traceparent`/`tracestate` message attributes, else
 * its `AWSTraceHeader` system attribute; undefined when it carries neither (or only malformed ones).
 */
export function producerContext(message: ReceivedAttributes): SpanContext | undefined {
  const traceparent = message.MessageAttributes?.[TRACEPARENT]?.StringValue;
  const tracestate = message.MessageAttributes?.[TRACESTATE]?.StringValue;
  if (traceparent !== undefined) {
    const w3c = fromCarrier({ traceparent, ...(tracestate === undefined ? {} : { tracestate }) });
    if (w3c) return w3c;
  }
  return fromAwsTraceHeader(message.Attributes?.[AWS_TRACE_HEADER]);
}
