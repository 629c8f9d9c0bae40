import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { trace, TraceFlags, type Span } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { MessageTrace } from "../../src/telemetry/message-trace.js";
import { withTraceAttributes } from "../../src/telemetry/send.js";
import {
  fromAwsTraceHeader,
  fromCarrier,
  producerContext,
  toCarrier,
  type TraceCarrier,
} from "../../src/telemetry/trace-context.js";
import { setWarningSink } from "../../src/warnings.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));

describe("trace context on messages", () => {
  it("reads and writes W3C traceparent and tracestate", () => {
    const context = fromCarrier({ traceparent: TRACEPARENT, tracestate: "vendor=abc,other=1" });
    assert.deepEqual(
      [context?.traceId, context?.spanId, context?.traceFlags, context?.isRemote],
      [TRACE_ID, SPAN_ID, 1, true],
    );
    assert.deepEqual(toCarrier(context!), { traceparent: TRACEPARENT, tracestate: "vendor=abc,other=1" });
  });

  it("ignores a malformed or all-zero traceparent, version ff, and a version 00 longer than 55 characters", () => {
    for (const traceparent of [
      "",
      "00-xyz",
      `00-${"0".repeat(32)}-${SPAN_ID}-01`,
      `ff-${TRACE_ID}-${SPAN_ID}-01`,
      `${TRACEPARENT}-extra`,
      `01-${TRACE_ID}-${SPAN_ID}-01extra`,
      `0x-${TRACE_ID}-${SPAN_ID}-01`,
    ]) {
      assert.equal(fromCarrier({ traceparent }), undefined, traceparent);
    }
  });

  it("reads the first four fields of a later traceparent version, as W3C says a parser should", () => {
    for (const traceparent of [`01-${TRACE_ID}-${SPAN_ID}-01`, `cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-adds`]) {
      const context = fromCarrier({ traceparent });
      assert.deepEqual([context?.traceId, context?.spanId, context?.traceFlags], [TRACE_ID, SPAN_ID, 1], traceparent);
    }
  });

  it("continues an X-Ray AWSTraceHeader: the trace id is X-Ray's without its dashes", () => {
    const context = fromAwsTraceHeader("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
    assert.deepEqual(
      [context?.traceId, context?.spanId, context?.traceFlags],
      ["5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", TraceFlags.SAMPLED],
    );
    assert.equal(fromAwsTraceHeader("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"), undefined, "no parent");
    assert.equal(fromAwsTraceHeader("garbage"), undefined);
  });

  it("prefers traceparent over AWSTraceHeader, and falls back to it", () => {
    const xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    const both = producerContext({
      Attributes: { AWSTraceHeader: xray },
      MessageAttributes: { traceparent: { StringValue: TRACEPARENT } },
    });
    assert.equal(both?.traceId, TRACE_ID);
    const onlyXray = producerContext({
      Attributes: { AWSTraceHeader: xray },
      MessageAttributes: { traceparent: { StringValue: "broken" } },
    });
    assert.equal(onlyXray?.spanId, "53995c3f42cd8ad8");
    assert.equal(producerContext({}), undefined);
  });

  it("continues an AWSTraceHeader in the supervisor's receive span", () => {
    exporter.reset();
    const xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    const message = { MessageId: "m-1", Attributes: { AWSTraceHeader: xray } };
    const messageTrace = new MessageTrace("shop__emails", "emails", message, 2, Date.now());
    messageTrace.endReceive();
    const [receive] = exporter.getFinishedSpans();
    assert.equal(receive?.spanContext().traceId, "5759e988bd862e3fe1be46a994272793");
    assert.equal(receive?.parentSpanContext?.spanId, "53995c3f42cd8ad8");
    assert.equal(receive?.attributes["sqsd.receive_count"], 2);
    assert.deepEqual(
      messageTrace.wire()?.parent?.traceparent,
      "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01",
    );
    assert.equal(messageTrace.logFields()["trace_id"], "5759e988bd862e3fe1be46a994272793");
  });

  it("starts the trace in the supervisor for a message that carries none", () => {
    exporter.reset();
    const messageTrace = new MessageTrace("shop__emails", "emails", { MessageId: "m-2" }, 1, Date.now());
    const wire = messageTrace.wire();
    assert.ok(wire?.parent && wire.parent.traceparent === wire.receive?.traceparent, "process hangs under receive");
    messageTrace.endReceive();
    assert.equal(exporter.getFinishedSpans()[0]?.parentSpanContext, undefined);
  });
});

describe("the trace context's room on a message", () => {
  const carrier: TraceCarrier = { traceparent: TRACEPARENT, tracestate: "vendor=abc" };
  /** A send span stand-in that records what is set on it. */
  const sendTrace = (queue: string, suffix = "") => {
    const set = new Map<string, unknown>();
    const span = { setAttribute: (key: string, value: unknown) => set.set(key, value) } as unknown as Span;
    return { trace: { carrier, span, queue, destination: `test__${queue}${suffix}` }, set };
  };
  const attributes = (count: number) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, index) => [`a${index}`, { DataType: "String", StringValue: "x" }]),
    );
  const TRACEPARENT_BYTES = "traceparent".length + "String".length + TRACEPARENT.length;
  const TRACESTATE_BYTES = "tracestate".length + "String".length + "vendor=abc".length;
  const MAX = 1024;

  it("adds traceparent and tracestate when there is room for both, and counts their bytes", () => {
    const { trace } = sendTrace("q1");
    const traced = withTraceAttributes({ attributes: attributes(8), bytes: 100 }, trace, MAX);
    assert.equal(Object.keys(traced.attributes ?? {}).length, 10);
    assert.equal(traced.attributes?.["traceparent"]?.StringValue, TRACEPARENT);
    assert.equal(traced.attributes?.["tracestate"]?.StringValue, "vendor=abc");
    assert.equal(traced.bytes, 100 + TRACEPARENT_BYTES + TRACESTATE_BYTES);
  });

  it("drops tracestate first, then the whole context, with one warning per registered queue", () => {
    const nine = withTraceAttributes({ attributes: attributes(9), bytes: 100 }, sendTrace("q2").trace, MAX);
    assert.deepEqual(
      [nine.attributes?.["traceparent"]?.StringValue, nine.attributes?.["tracestate"]],
      [TRACEPARENT, undefined],
    );
    const warnings: string[] = [];
    const restore = setWarningSink((_message, code) => warnings.push(code));
    const first = sendTrace("q3", "__tenant1");
    try {
      const full = { attributes: attributes(10), bytes: 100 };
      assert.equal(withTraceAttributes(full, first.trace, MAX), full);
      // Another suffix of the same queue: no second warning (per-tenant suffixes must not grow the set).
      withTraceAttributes(full, sendTrace("q3", "__tenant2").trace, MAX);
    } finally {
      restore();
    }
    assert.deepEqual(warnings, ["SQSD_TRACE_CONTEXT_NO_ROOM"]);
    assert.equal(first.set.get("sqsd.trace_context.injected"), false, "the send span passed in is marked");
  });

  it("never takes a message past the size limit: tracestate goes first, then traceparent", () => {
    const warnings: string[] = [];
    const restore = setWarningSink((_message, code) => warnings.push(code));
    try {
      const roomForParent = { attributes: undefined, bytes: MAX - TRACEPARENT_BYTES };
      const parentOnly = withTraceAttributes(roomForParent, sendTrace("q5").trace, MAX);
      assert.deepEqual(Object.keys(parentOnly.attributes ?? {}), ["traceparent"]);
      assert.equal(parentOnly.bytes, MAX);

      const noRoom = { attributes: attributes(1), bytes: MAX - TRACEPARENT_BYTES + 1 };
      const { trace, set } = sendTrace("q6");
      assert.equal(withTraceAttributes(noRoom, trace, MAX), noRoom);
      assert.equal(set.get("sqsd.trace_context.injected"), false);
    } finally {
      restore();
    }
    assert.deepEqual(warnings, ["SQSD_TRACE_CONTEXT_NO_ROOM"]);
  });

  it("keeps a traceparent or tracestate the caller set, and adds nothing without a context", () => {
    const own = { attributes: { traceparent: { DataType: "String", StringValue: "00-mine" } }, bytes: 10 };
    assert.equal(withTraceAttributes(own, sendTrace("q4").trace, MAX), own);
    const ownState = { attributes: { tracestate: { DataType: "String", StringValue: "mine=1" } }, bytes: 10 };
    const traced = withTraceAttributes(ownState, sendTrace("q4").trace, MAX);
    assert.equal(traced.attributes?.["tracestate"]?.StringValue, "mine=1");
    assert.equal(traced.attributes?.["traceparent"]?.StringValue, TRACEPARENT);
    const plain = { attributes: undefined, bytes: 10 };
    assert.equal(withTraceAttributes(plain, undefined, MAX), plain);
  });
});
