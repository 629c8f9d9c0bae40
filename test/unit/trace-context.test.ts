import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { trace, TraceFlags } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { resolveConfig } from "../../src/config/resolve.js";
import { ValidationError } from "../../src/errors.js";
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

  it("ignores a malformed or all-zero traceparent", () => {
    for (const traceparent of ["", "00-xyz", `01-${TRACE_ID}-${SPAN_ID}-01`, `00-${"0".repeat(32)}-${SPAN_ID}-01`]) {
      assert.equal(fromCarrier({ traceparent }), undefined, traceparent);
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

describe("the 10-attribute limit", () => {
  const carrier: TraceCarrier = { traceparent: TRACEPARENT, tracestate: "vendor=abc" };
  const attributes = (count: number) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, index) => [`a${index}`, { DataType: "String", StringValue: "x" }]),
    );

  it("adds traceparent and tracestate when there is room for both", () => {
    const traced = withTraceAttributes(attributes(8), carrier, "q1");
    assert.equal(Object.keys(traced ?? {}).length, 10);
    assert.equal(traced?.["traceparent"]?.StringValue, TRACEPARENT);
    assert.equal(traced?.["tracestate"]?.StringValue, "vendor=abc");
  });

  it("drops tracestate first, then the whole context, with one warning per queue", () => {
    const nine = withTraceAttributes(attributes(9), carrier, "q2");
    assert.deepEqual([nine?.["traceparent"]?.StringValue, nine?.["tracestate"]], [TRACEPARENT, undefined]);
    const warnings: string[] = [];
    const restore = setWarningSink((_message, code) => warnings.push(code));
    try {
      const full = attributes(10);
      assert.equal(withTraceAttributes(full, carrier, "q3"), full);
      withTraceAttributes(full, carrier, "q3");
    } finally {
      restore();
    }
    assert.deepEqual(warnings, ["SQSD_TRACE_CONTEXT_NO_ROOM"]);
  });

  it("keeps a traceparent the caller set, and adds nothing without a context", () => {
    const own = { traceparent: { DataType: "String", StringValue: "00-mine" } };
    assert.equal(withTraceAttributes(own, carrier, "q4"), own);
    assert.equal(withTraceAttributes(undefined, undefined, "q4"), undefined);
  });
});

describe("telemetry config", () => {
  const context = { configPath: "/app/sqs.config.ts", env: {}, cores: 4, isTTY: false };

  it("resolves telemetry.setup against the config file's folder", () => {
    assert.deepEqual(resolveConfig({ receivers: ["./r.ts"], telemetry: { setup: "./otel.ts" } }, context).telemetry, {
      setup: "/app/otel.ts",
    });
    assert.equal(resolveConfig({ receivers: ["./r.ts"] }, context).telemetry, undefined);
  });

  it("names the field of a missing setup", () => {
    assert.throws(
      () => resolveConfig({ receivers: ["./r.ts"], telemetry: {} }, context),
      (error: unknown) => error instanceof ValidationError && /telemetry\.setup/.test(error.message),
    );
  });
});
