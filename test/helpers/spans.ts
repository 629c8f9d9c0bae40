/**
 * Finished spans as plain JSON, so that the spans of a daemon's supervisor and pool threads can be written to
 * the events file (test/fixtures/telemetry/setup.ts) and read by the test, beside those of the test process.
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

export interface SpanRecord {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly links: readonly { readonly traceId: string; readonly spanId: string; readonly attributes: object }[];
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: { readonly code: number; readonly message?: string | undefined };
  readonly events: readonly string[];
  /** Start time in ns since the epoch, as a string (exact). */
  readonly startNs: string;
  readonly isMainThread?: boolean;
}

export function spanRecord(span: ReadableSpan): SpanRecord {
  const context = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      attributes: { ...link.attributes },
    })),
    attributes: { ...span.attributes },
    status: { code: span.status.code, message: span.status.message },
    events: span.events.map((event) => event.name),
    startNs: (BigInt(span.startTime[0]) * 1_000_000_000n + BigInt(span.startTime[1])).toString(),
  };
}
