/**
 * Tracing must never change what happens to a message. Every call sqsd makes into the app's SDK (starting and
 * ending spans, which runs the app's span processors, samplers and exporters) goes through {@link safely}: a
 * throw there is caught, reported once per call site, and the message is handled as if untraced.
 */
import { INVALID_SPAN_CONTEXT, trace, type Span } from "@opentelemetry/api";
import { errorSummary } from "../errors.js";
import { warn } from "../warnings.js";

/** The warning code of a telemetry call that threw. */
export const TELEMETRY_FAILED = "SQSD_TELEMETRY_FAILED";

/** Call sites already warned about: a fixed set of names, so this stays small. */
const warned = new Set<string>();

/**
 * Runs `call`; if it throws, warns once per `site` (what sqsd was doing: `"end the receive span"`) and
 * returns `fallback` instead.
 */
export function safely<T>(site: string, fallback: T, call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (!warned.has(site)) {
      warned.add(site);
      warn(
        `tracing failed to ${site} (${errorSummary(error)}); messages are handled as usual, but their traces may miss spans (reported once)`,
        TELEMETRY_FAILED,
      );
    }
    return fallback;
  }
}

/** A span that records nothing (stateless, so one serves all): what a span start that threw leaves in its place. */
export const UNTRACED_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
