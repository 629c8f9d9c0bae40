/**
 * The `process` span of one handler run, in the pool thread that runs it. The handler runs with that span
 * active, so the spans its own instrumentation starts (database, HTTP clients) nest under it. With no SDK
 * registered in the thread (no `telemetry.setup`), the span is a no-op and costs a few calls.
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
} from "@opentelemetry/api";
import type { HandlerTask, Outcome, WireMessage } from "../src/pool/protocol.js";
import { safely, UNTRACED_SPAN } from "../src/telemetry/safe.js";
import { ATTR, AWS_SQS, tracer } from "../src/telemetry/semconv.js";
import { fromCarrier, toCarrier } from "../src/telemetry/trace-context.js";

/**
 * Runs `run` (decode and handler of one run) inside its `process` span, and adds the span's context to each
 * outcome for the supervisor. A single-message handler's span is a child of the message's producer context;
 * a batch handler's is a new trace with a link to each message's producer context, as the messaging
 * conventions say for a batch, where no one parent is the right one.
 */
export async function traceRun(
  task: HandlerTask,
  messages: readonly WireMessage[],
  batch: boolean,
  run: () => Promise<Outcome[]>,
): Promise<Outcome[]> {
  const parent = safely("read a message's trace context", ROOT_CONTEXT, () => parentOf(messages, batch));
  const span = safely("start a process span", UNTRACED_SPAN, () => startProcessSpan(task, messages, batch, parent));
  let outcomes: Outcome[];
  try {
    outcomes = await context.with(trace.setSpan(parent, span), run);
  } catch (error) {
    safely("end a process span", undefined, () => {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    throw error;
  }
  // A throw here must not turn a run that happened into a failure (it would run again): the outcomes stand.
  const processSpan = safely("end a process span", undefined, () => {
    describeOutcomes(span, outcomes);
    span.end();
    return toCarrier(span.spanContext());
  });
  return processSpan ? outcomes.map((outcome) => ({ ...outcome, processSpan })) : outcomes;
}

/** A single message's producer context, which its `process` span continues; none for a batch. */
function parentOf(messages: readonly WireMessage[], batch: boolean): Context {
  const parentContext = !batch ? fromCarrier(messages[0]?.trace?.parent) : undefined;
  return parentContext ? trace.setSpanContext(ROOT_CONTEXT, parentContext) : ROOT_CONTEXT;
}

function startProcessSpan(task: HandlerTask, messages: readonly WireMessage[], batch: boolean, parent: Context): Span {
  const first = messages[0];
  const parentSpanId = trace.getSpanContext(parent)?.spanId;
  const links: Link[] = [];
  for (const message of messages) {
    const linked = fromCarrier(batch ? message.trace?.parent : message.trace?.receive);
    if (linked && linked.spanId !== parentSpanId) {
      links.push({ context: linked, attributes: { [ATTR.messageId]: message.id } });
    }
  }
  return tracer().startSpan(
    `process ${task.fullName}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        [ATTR.system]: AWS_SQS,
        [ATTR.destination]: task.fullName,
        [ATTR.operationType]: "process",
        [ATTR.operationName]: "process",
        [ATTR.queue]: task.queue,
        ...(batch
          ? { [ATTR.batchMessageCount]: messages.length }
          : {
              [ATTR.messageId]: first?.id ?? "",
              [ATTR.receiveCount]: Number(first?.attributes["ApproximateReceiveCount"] ?? "1"),
            }),
      },
    },
    parent,
  );
}

/** Outcome, failure phase and error on the span; a batch's first failure stands for the rest. */
function describeOutcomes(span: Span, outcomes: readonly Outcome[]): void {
  if (!span.isRecording()) return;
  const kinds = new Set(outcomes.map((outcome) => outcome.kind));
  span.setAttribute(ATTR.outcome, kinds.size === 1 ? [...kinds][0]! : "mixed");
  const failed = outcomes.find((outcome) => outcome.kind === "failed");
  if (failed?.kind !== "failed") return;
  // The error as the thread serialized it: a decode error is already stripped of any part of the body.
  span.setAttribute(ATTR.failurePhase, failed.phase);
  span.setAttribute(ATTR.errorType, failed.error.name);
  span.recordException({
    name: failed.error.name,
    message: failed.error.message,
    ...(failed.error.stack === undefined ? {} : { stack: failed.error.stack }),
  });
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${failed.phase}: ${failed.error.name}` });
}
