/**
 * Flushing the app's SDK before a process or thread ends. Batch span processors hold spans for seconds; the
 * daemon's last spans (a drain's settles) and a pool thread's (its last runs) would be lost when the process
 * exits or piscina ends the thread. `@opentelemetry/api` has no flush, so this asks the registered provider
 * for the SDK's `forceFlush` if it has one.
 */
import { trace } from "@opentelemetry/api";
import { errorSummary } from "../errors.js";
import { warn } from "../warnings.js";
import { safely } from "./safe.js";

/** How long a flush may hold up a shutdown: an unreachable collector must not stall a drain. */
export const FLUSH_TIMEOUT_MS = 5_000;

/** Exports the spans the registered SDK still holds; resolves within `timeoutMs`, whatever the exporter does. */
export async function flushSpans(timeoutMs = FLUSH_TIMEOUT_MS): Promise<void> {
  // The global provider is the API's proxy; the SDK's provider is its delegate.
  const proxy = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (proxy.getDelegate?.() ?? proxy) as { forceFlush?: () => Promise<void> };
  const forceFlush = provider.forceFlush;
  if (typeof forceFlush !== "function") return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  try {
    // A failed export is reported, and the shutdown goes on: its spans are lost either way.
    const flushed = safely("flush spans", Promise.resolve(), () => forceFlush.call(provider));
    const reported = flushed.catch((error: unknown) =>
      warn(`could not export the spans the SDK still held (${errorSummary(error)})`, "SQSD_TELEMETRY_FLUSH_FAILED"),
    );
    await Promise.race([reported, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
