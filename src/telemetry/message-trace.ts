/**
 * The supervisor's half of a received message's trace: its `receive` span (from the ReceiveMessage answer to
 * the hand-off to a pool thread), the contexts the thread continues, the `settle` span, and the ids every
 * log line about the message carries.
 */
import {
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from "@opentelemetry/api";
import { safely, UNTRACED_SPAN } from "./safe.js";
import { ATTR, AWS_SQS, tracer, tracerProviderRegistered } from "./semconv.js";
import { fromCarrier, producerContext, toCarrier, type TraceCarrier } from "./trace-context.js";

/** What crosses to the pool thread with a message: span contexts as strings. */
export interface WireTrace {
  /** The producer's `send` span (or the `receive` span, for a message that came untraced). */
  readonly parent?: TraceCarrier;
  /** The `receive` span, which the `process` span links to. */
  readonly receive?: TraceCarrier;
}

/** How a message was settled, for its `settle` span. */
export interface SettleReport {
  /** The SQS call: `delete`, `change_visibility`, or `leave` (none: it comes back after its visibility timeout). */
  readonly operation: "delete" | "change_visibility" | "leave";
  /** How the run was settled (`ok`, `failed`, `restartLater`, `interrupted`, `notStarted`): `sqsd.outcome`. */
  readonly outcome: string;
  /** Where a failed run failed (`setup`, `decode`, `handler`, `timeout`, `crash`); undefined unless it failed. */
  readonly phase: string | undefined;
  /** The failure's error name (`error.type`); undefined unless it failed. */
  readonly errorType: string | undefined;
}

/** The fields of a message, in the AWS SDK's shape, that its trace reads. */
export interface TracedMessage {
  readonly MessageId?: string | undefined;
  readonly Attributes?: Partial<Record<string, string>> | undefined;
  readonly MessageAttributes?: Readonly<Record<string, { readonly StringValue?: string | undefined }>> | undefined;
}

/** What an untraced message's settle leaves to do when SQS answers: nothing. */
const NO_SETTLE_SPAN = (): void => undefined;

/**
 * One received message's spans in the supervisor. No method throws: what the app's SDK throws is caught (see
 * safe.ts), so tracing never changes how a message is handled.
 *
 * With no tracer provider registered every span would be the API's no-op, which carries its parent's context:
 * such a message starts no span at all, and hands on the producer's context (if any) as the no-op spans would
 * have. That is most messages of most apps, and a span's attributes, contexts and guards cost the supervisor
 * several microseconds per message for nothing.
 */
export class MessageTrace {
  readonly #destination: string;
  readonly #queue: string;
  readonly #messageId: string;
  /** The producer's span context on the message, if it carries one. */
  readonly #producer: SpanContext | undefined;
  /**
   * Where `process` and `settle` hang: the producer's context, or else the `receive` span's. Undefined when no
   * tracer provider was registered as the message arrived (then there is no `receive` span either).
   */
  readonly #parent: Context | undefined;
  readonly #receive: Span | undefined;
  #receiveOpen = true;
  /** The thread's `process` span, once its outcome came back. */
  #process: SpanContext | undefined;

  constructor(destination: string, queue: string, message: TracedMessage, receiveCount: number, receivedAt: number) {
    this.#destination = destination;
    this.#queue = queue;
    this.#messageId = message.MessageId ?? "";
    const producer = safely("read the trace context of a message", undefined, () => producerContext(message));
    this.#producer = producer;
    if (!tracerProviderRegistered()) {
      this.#receiveOpen = false;
      return;
    }
    const producerParent = producer ? trace.setSpanContext(ROOT_CONTEXT, producer) : ROOT_CONTEXT;
    // CLIENT, as the messaging conventions give `receive`: the `process` span in the thread is the one
    // CONSUMER child of the producer, so service graphs count one edge per message, not two.
    this.#receive = safely("start a receive span", UNTRACED_SPAN, () =>
      tracer().startSpan(
        `receive ${destination}`,
        {
          kind: SpanKind.CLIENT,
          startTime: receivedAt,
          attributes: {
            ...this.#common("receive", "receive"),
            [ATTR.messageId]: this.#messageId,
            [ATTR.receiveCount]: receiveCount,
          },
        },
        producerParent,
      ),
    );
    this.#parent = producer ? producerParent : trace.setSpan(ROOT_CONTEXT, this.#receive);
  }

  /** The contexts the pool thread continues; undefined when there is nothing to continue. */
  wire(): WireTrace | undefined {
    if (!this.#parent || !this.#receive) {
      // What the no-op spans would carry: the producer's context, as the parent and as the receive span.
      const carrier = this.#producer && toCarrier(this.#producer);
      return carrier ? { parent: carrier, receive: carrier } : undefined;
    }
    const parent = toCarrier(trace.getSpanContext(this.#parent) ?? this.#receive.spanContext());
    const receive = toCarrier(this.#receive.spanContext());
    if (!parent && !receive) return undefined;
    return { ...(parent ? { parent } : {}), ...(receive ? { receive } : {}) };
  }

  /** The message left the buffer (to a pool thread, or back to SQS): its `receive` span ends. */
  endReceive(): void {
    if (!this.#receiveOpen) return;
    this.#receiveOpen = false;
    safely("end a receive span", undefined, () => this.#receive?.end());
  }

  /** The thread's `process` span, which settle spans link to and later log lines name. */
  processed(processSpan: TraceCarrier | undefined): void {
    this.#process = safely("read a process span's context", undefined, () => fromCarrier(processSpan));
  }

  /**
   * Starts the `settle` span of the message's outcome, linked to its `process` span; the function returned
   * ends it when SQS has answered (`succeeded` false: the call failed, the message may come back).
   */
  startSettle(report: SettleReport): (succeeded: boolean) => void {
    this.endReceive();
    const parent = this.#parent;
    if (!parent) return NO_SETTLE_SPAN;
    const span = safely("start a settle span", undefined, () => this.#startSettle(report, parent));
    if (!span) return () => undefined;
    return (succeeded) =>
      safely("end a settle span", undefined, () => {
        if (!succeeded) span.setStatus({ code: SpanStatusCode.ERROR, message: `${report.operation} failed` });
        span.end();
      });
  }

  #startSettle(report: SettleReport, parent: Context): Span {
    const links: Link[] = this.#process ? [{ context: this.#process }] : [];
    const span = tracer().startSpan(
      `${report.operation} ${this.#destination}`,
      {
        kind: SpanKind.CLIENT,
        links,
        attributes: {
          ...this.#common("settle", report.operation),
          [ATTR.messageId]: this.#messageId,
          [ATTR.outcome]: report.outcome,
          ...(report.phase === undefined ? {} : { [ATTR.failurePhase]: report.phase }),
          ...(report.errorType === undefined ? {} : { [ATTR.errorType]: report.errorType }),
        },
      },
      parent,
    );
    if (report.phase !== undefined)
      span.setStatus({ code: SpanStatusCode.ERROR, message: `failed in ${report.phase}` });
    return span;
  }

  /** `trace_id` and `span_id` for log lines about this message (the `process` span once known); none if untraced. */
  logFields(): Record<string, string> {
    const span = this.#process ?? this.#receive?.spanContext() ?? this.#producer;
    return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
  }

  #common(type: string, name: string): Record<string, string> {
    return {
      [ATTR.system]: AWS_SQS,
      [ATTR.destination]: this.#destination,
      [ATTR.operationType]: type,
      [ATTR.operationName]: name,
      [ATTR.queue]: this.#queue,
    };
  }
}
