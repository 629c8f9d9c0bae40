import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { register, send } from "../../src/index.js";
import { fixture } from "../helpers/paths.js";
import { runSqsd } from "../helpers/daemon.js";
import { Scenario } from "../helpers/scenario.js";
import { TestBucket } from "../helpers/s3.js";
import type { LargePayloadsOptions } from "../../src/config/types.js";
import { spanRecord, type SpanRecord } from "../helpers/spans.js";

// This process is the app that sends: its SDK keeps spans in memory. The daemon's supervisor and threads
// register theirs in test/fixtures/telemetry/setup.ts, which writes every finished span to the events file.
const exporter = new InMemorySpanExporter();
/** Makes this process's span processor throw on every `send` span, as a broken one would. */
let sendProcessorThrows = false;
const throwOnSend = (span: { readonly name: string }, when: string): void => {
  if (sendProcessorThrows && span.name.startsWith("send ")) throw new Error(`span processor failed in ${when}`);
};
const brokenProcessor: SpanProcessor = {
  onStart: (span) => throwOnSend(span, "onStart"),
  onEnd: (span) => throwOnSend(span, "onEnd"),
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [brokenProcessor, new SimpleSpanProcessor(exporter)] }),
);

const SPAN_KIND = { CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;
const STATUS_ERROR = 2;

/** Sends inside a span of the app's own (a web request, say); returns the span and the message id. */
async function sendInRequest(queue: string, body: unknown): Promise<{ requestSpanId: string; messageId: string }> {
  return trace.getTracer("app").startActiveSpan("web request", async (span) => {
    try {
      return { requestSpanId: span.spanContext().spanId, messageId: await send(queue, body) };
    } finally {
      span.end();
    }
  });
}

/** The spans of one traced message, sorted by name: the user's span, send, receive, process, the handler's, settle. */
const ONE_TRACE_SPAN_NAMES = [
  "delete test__traced",
  "handler work",
  "process test__traced",
  "receive test__traced",
  "send test__traced",
  "web request",
];
describe("tracing", () => {
  let scenario: Scenario;
  beforeEach(async () => {
    exporter.reset();
    scenario = await Scenario.start();
    scenario.sqs.useForSending("test");
    register("traced");
    register("traced-batch");
  });
  afterEach(() => {
    sendProcessorThrows = false;
    return scenario.dispose();
  });

  /** Every span: this process's, and the daemon's (supervisor and threads), with where each ended. */
  function allSpans(): SpanRecord[] {
    const daemon = scenario.ws
      .events()
      .filter((event) => event.event === "span")
      .map((event) => ({ ...(event["span"] as SpanRecord), isMainThread: event.isMainThread }));
    return [...exporter.getFinishedSpans().map(spanRecord), ...daemon];
  }

  function runDaemon(queue: string, messages: number, env: Record<string, string> = {}) {
    const configPath = scenario.writeConfig(["traced"], {
      queuePrefix: "test",
      telemetry: { setup: fixture("telemetry", "setup.ts") },
    });
    return runSqsd([queue, "--config", configPath, "--message-limit", String(messages)], {
      env: { ...scenario.env, ...env },
      cwd: scenario.ws.dir,
    });
  }

  it("continues the sender's trace: request, send, receive, process, and the handler's own span", async () => {
    const { requestSpanId, messageId } = await sendInRequest("traced", {});
    const result = await runDaemon("traced", 1);
    assert.equal(result.code, 0, result.stderr);

    const request = allSpans().find((span) => span.spanId === requestSpanId);
    assert.ok(request);
    // The causal order (request → send → receive → process → handler span, then the delete) is asserted
    // through parent ids and links, never through start times: spans start in different threads and
    // processes, on clocks floored to the millisecond, so start order says nothing about cause.
    const spans = allSpans().filter((span) => span.traceId === request.traceId);
    assert.deepEqual(spans.map((span) => span.name).sort(), ONE_TRACE_SPAN_NAMES);
    const named = (name: string): SpanRecord => {
      const found = spans.find((span) => span.name === name);
      assert.ok(found, name);
      return found;
    };
    const sent = named("send test__traced");
    const received = named("receive test__traced");
    const processed = named("process test__traced");
    const work = named("handler work");
    const deleted = named("delete test__traced");
    assert.equal(sent.parentSpanId, requestSpanId);
    assert.equal(sent.kind, SPAN_KIND.PRODUCER);
    assert.deepEqual(
      [sent.attributes["messaging.system"], sent.attributes["messaging.destination.name"]],
      ["aws_sqs", "test__traced"],
    );
    assert.equal(sent.attributes["messaging.message.id"], messageId);

    assert.equal(received.parentSpanId, sent.spanId);
    assert.equal(received.isMainThread, true, "receive is the supervisor's");
    assert.equal(received.kind, SPAN_KIND.CLIENT, "receive is CLIENT: process is the one CONSUMER of send");
    assert.equal(received.attributes["messaging.message.id"], messageId);

    assert.equal(processed.parentSpanId, sent.spanId, "process is a child of the producer's context");
    assert.equal(processed.isMainThread, false, "process runs in a pool thread");
    assert.equal(processed.kind, SPAN_KIND.CONSUMER);
    assert.deepEqual(
      processed.links.map((link) => link.spanId),
      [received.spanId],
    );
    assert.equal(processed.attributes["messaging.message.id"], messageId);
    assert.equal(processed.attributes["sqsd.receive_count"], 1);
    assert.equal(processed.attributes["sqsd.outcome"], "ok");

    assert.equal(work.parentSpanId, processed.spanId, "the handler's own spans nest under process");
    const handled = scenario.ws.events().find((event) => event.event === "handled");
    assert.equal(handled?.["activeTraceId"], request.traceId);

    assert.equal(deleted.isMainThread, true);
    assert.equal(deleted.parentSpanId, sent.spanId, "the settle span hangs under the producer's context");
    assert.equal(deleted.attributes["messaging.operation.type"], "settle");
    assert.deepEqual(
      deleted.links.map((link) => link.spanId),
      [processed.spanId],
    );

    const logs = result.logs.filter((record) => record.messageId === messageId);
    assert.ok(logs.length > 0);
    for (const record of logs)
      assert.equal((record as unknown as Record<string, unknown>)["trace_id"], request.traceId, JSON.stringify(record));
    const processedLog = logs.find((record) => record.message === "message processed");
    assert.equal((processedLog as unknown as Record<string, unknown> | undefined)?.["span_id"], processed?.spanId);
  });

  it("marks a failed handler's span with the error and the phase", async () => {
    const { requestSpanId } = await sendInRequest("traced", { fail: true });
    const result = await runDaemon("traced", 1);
    assert.equal(result.code, 0, result.stderr);

    const request = allSpans().find((span) => span.spanId === requestSpanId);
    const inTrace = allSpans().filter((span) => span.traceId === request?.traceId);
    const processed = inTrace.find((span) => span.name === "process test__traced");
    assert.equal(processed?.status.code, STATUS_ERROR);
    assert.equal(processed?.attributes["sqsd.outcome"], "failed");
    assert.equal(processed?.attributes["sqsd.failure_phase"], "handler");
    assert.equal(processed?.attributes["error.type"], "Error");
    assert.deepEqual(processed?.events, ["exception"]);
    const settled = inTrace.find((span) => span.attributes["messaging.operation.type"] === "settle");
    assert.equal(settled?.attributes["sqsd.failure_phase"], "handler");
    assert.equal(settled?.status.code, STATUS_ERROR);
  });

  it("gives a batch handler one span with a link to each message's producer context", async () => {
    const sent = [];
    for (let index = 0; index < 3; index += 1) sent.push(await sendInRequest("traced-batch", { index }));
    const result = await runDaemon("traced-batch", 3);
    assert.equal(result.code, 0, result.stderr);

    const spans = allSpans();
    const sendSpans = sent.map(({ requestSpanId }) => spans.find((span) => span.parentSpanId === requestSpanId));
    assert.ok(sendSpans.every((span) => span?.name === "send test__traced-batch"));
    const processSpans = spans.filter((span) => span.name === "process test__traced-batch");
    assert.ok(processSpans.length > 0);
    for (const span of processSpans) {
      assert.equal(span.links.length, span.attributes["messaging.batch.message_count"]);
      assert.equal(span.parentSpanId, undefined, "a batch's span starts a trace of its own");
    }
    assert.deepEqual(
      processSpans.flatMap((span) => span.links.map((link) => link.spanId)).sort(),
      sendSpans.map((span) => span?.spanId).sort(),
    );
    assert.deepEqual(
      processSpans
        .flatMap((span) =>
          span.links.map((link) => (link.attributes as Record<string, unknown>)["messaging.message.id"]),
        )
        .sort(),
      sent.map(({ messageId }) => messageId).sort(),
    );
  });

  it("flushes spans the SDK still holds before the threads and the daemon end", async () => {
    const { requestSpanId } = await sendInRequest("traced", {});
    // The batch processor exports only when flushed: every span seen here was flushed at shutdown.
    const result = await runDaemon("traced", 1, { SQSD_TEST_SPAN_BATCH: "1" });
    assert.equal(result.code, 0, result.stderr);
    const request = allSpans().find((span) => span.spanId === requestSpanId);
    const names = allSpans()
      .filter((span) => span.traceId === request?.traceId)
      .map((span) => span.name)
      .sort();
    assert.deepEqual(names, ONE_TRACE_SPAN_NAMES);
  });

  it("handles and deletes messages when the app's span processors throw", async () => {
    // Both sides broken: the sender's processor throws on its send spans, the daemon's (supervisor and
    // threads) on every span of sqsd's. Tracing must not change what happens to a message.
    sendProcessorThrows = true;
    const sent = [];
    for (let index = 0; index < 3; index += 1) sent.push(await sendInRequest("traced", { index }));
    const result = await runDaemon("traced", 3, { SQSD_TEST_SPAN_THROW: "1" });
    assert.equal(result.code, 0, result.stderr);

    const handled = scenario.ws.events().filter((event) => event.event === "handled");
    assert.deepEqual(handled.map((event) => event["id"]).sort(), sent.map(({ messageId }) => messageId).sort());
    const counts = await scenario.sqs.counts(await scenario.sqs.createQueue("test__traced"));
    assert.deepEqual(counts, { visible: 0, inFlight: 0, delayed: 0 }, "every message was deleted");
    const warnings = result.logs.filter((record) => record.code === "SQSD_TELEMETRY_FAILED");
    assert.ok(warnings.length > 0, "the supervisor says its tracing failed");
    assert.equal(new Set(warnings.map((record) => record.message)).size, warnings.length, "once per call site");
  });

  it("names the telemetry.setup module when it fails in a pool thread: exit 1", async () => {
    const configPath = scenario.writeConfig(["traced"], {
      queuePrefix: "test",
      telemetry: { setup: fixture("telemetry", "throws-in-threads.ts") },
    });
    const result = await runSqsd(["traced", "--config", configPath], { env: scenario.env, cwd: scenario.ws.dir });
    assert.equal(result.code, 1, result.stderr);
    const line = result.stderr.split("\n").find((text) => text.startsWith("sqsd: "));
    assert.match(
      line ?? result.stderr,
      /pool thread could not load its telemetry\.setup module: TelemetrySetupError: telemetry\.setup module .*throws-in-threads\.ts failed to load: .*cannot load in a worker thread/,
    );
  });

  describe("room for the trace context", () => {
    /** The one `send` span this process recorded for the queue. */
    const sendSpan = (queue: string): SpanRecord | undefined =>
      exporter
        .getFinishedSpans()
        .map(spanRecord)
        .find((span) => span.name === `send test__${queue}`);

    it("sends a message that fits its queue only without the trace context, untraced", async () => {
      const url = await scenario.sqs.createQueue("test__sized", { MaximumMessageSize: "1024" });
      register("sized");
      // JSON `{"blob":"x…"}`: 11 bytes of frame; the body alone fills the queue's limit.
      const fits = { blob: "x".repeat(1024 - 11) };
      await sendInRequest("sized", fits);
      const [message] = await scenario.sqs.receive(url);
      assert.equal(message?.Body, JSON.stringify(fits));
      assert.equal(message.MessageAttributes?.["traceparent"], undefined);
      assert.equal(sendSpan("sized")?.attributes["sqsd.trace_context.injected"], false);

      // Room for traceparent (11 + 6 + 55 bytes) but not for anything more: it goes alone.
      exporter.reset();
      const roomForTraceparent = { blob: "x".repeat(1024 - 11 - 72) };
      await sendInRequest("sized", roomForTraceparent);
      const [traced] = await scenario.sqs.receive(url);
      assert.match(traced?.MessageAttributes?.["traceparent"]?.StringValue ?? "", /^00-[0-9a-f]{32}-/);
      assert.equal(sendSpan("sized")?.attributes["sqsd.trace_context.injected"], undefined);
    });

    it("counts the large-payload size attribute against the 10 before adding the trace context", async () => {
      const bucket = await TestBucket.create(scenario.sqs.endpoint);
      try {
        const url = await scenario.sqs.createQueue("test__offloaded");
        register("offloaded", undefined, {
          largePayloads: bucket.options({ always: true }) as unknown as LargePayloadsOptions,
        });
        // Nine of the user's own, and the pointer's size attribute: SQS's 10, no room left for traceparent.
        const messageAttributes = Object.fromEntries(Array.from({ length: 9 }, (_, index) => [`a${index}`, "x"]));
        await trace
          .getTracer("app")
          .startActiveSpan("web request", (span) =>
            send("offloaded", { n: 1 }, { messageAttributes }).finally(() => span.end()),
          );
        const [message] = await scenario.sqs.receive(url);
        assert.equal(Object.keys(message?.MessageAttributes ?? {}).length, 10);
        assert.equal(message?.MessageAttributes?.["traceparent"], undefined);
        assert.equal(sendSpan("offloaded")?.attributes["sqsd.trace_context.injected"], false);
      } finally {
        bucket.close();
      }
    });
  });
});
