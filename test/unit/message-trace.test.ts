/**
 * A received message's trace in the supervisor (src/telemetry/message-trace.ts): with no tracer provider it
 * starts no span, yet hands on and logs what the API's no-op spans would have carried; with one it records the
 * `receive` and `settle` spans.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { MessageTrace } from "../../src/telemetry/message-trace.js";

const PRODUCER = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
const TRACEPARENT = `00-${PRODUCER.traceId}-${PRODUCER.spanId}-01`;
const PROCESS = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01";

const traced = { MessageId: "m-1", MessageAttributes: { traceparent: { StringValue: TRACEPARENT } } };
const untraced = { MessageId: "m-2" };
const settleReport = { operation: "delete", outcome: "ok", phase: undefined, errorType: undefined } as const;

function startTrace(message: typeof traced | typeof untraced): MessageTrace {
  return new MessageTrace("orders-dev", "orders", message, 1, Date.now());
}

describe("MessageTrace with no tracer provider", () => {
  it("hands on the producer's context as the parent and the receive span, as no-op spans carry it", () => {
    const messageTrace = startTrace(traced);
    assert.deepEqual(messageTrace.wire(), {
      parent: { traceparent: TRACEPARENT },
      receive: { traceparent: TRACEPARENT },
    });
    assert.deepEqual(messageTrace.logFields(), { trace_id: PRODUCER.traceId, span_id: PRODUCER.spanId });
    messageTrace.endReceive();
    messageTrace.processed({ traceparent: PROCESS });
    messageTrace.startSettle(settleReport)(true);
    assert.deepEqual(messageTrace.logFields(), { trace_id: PRODUCER.traceId, span_id: "b7ad6b7169203331" });
  });

  it("has nothing to hand on or log for a message that came untraced", () => {
    const messageTrace = startTrace(untraced);
    assert.equal(messageTrace.wire(), undefined);
    assert.deepEqual(messageTrace.logFields(), {});
    messageTrace.startSettle(settleReport)(false);
    assert.deepEqual(messageTrace.logFields(), {});
  });
});

describe("MessageTrace with a tracer provider", () => {
  afterEach(() => trace.disable());

  it("records the receive span under the producer's, and the settle span", () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const messageTrace = startTrace(traced);
    const wire = messageTrace.wire();
    assert.equal(wire?.parent?.traceparent, TRACEPARENT);
    assert.notEqual(wire?.receive?.traceparent, TRACEPARENT, "the receive span is a span of its own");
    messageTrace.endReceive();
    messageTrace.startSettle(settleReport)(true);
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(
      spans.map((span) => [span.name, span.parentSpanContext?.spanId]),
      [
        ["receive orders-dev", PRODUCER.spanId],
        ["delete orders-dev", PRODUCER.spanId],
      ],
    );
  });
});
