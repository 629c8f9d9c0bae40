import { serializeError, type Outcome } from "../src/pool/protocol.js";
import type { BatchResult, ReceivedMessage, RegisteredQueue } from "../src/registry/types.js";
import { isRateLimited, retryAfterSeconds } from "../src/rate-limited.js";
import { isRestartLater } from "../src/restart-later.js";

/** The failure of a run that ended without recording an outcome (it should not happen; it is never silent). */
export const missing = serializeError(new Error("no outcome was recorded for this message"));

/** Runs the queue's handler on decoded messages; one outcome per message. */
export async function runHandler(
  queue: RegisteredQueue,
  messages: readonly ReceivedMessage[],
  elapsed: () => number,
): Promise<Outcome[]> {
  const handler = queue.handler!;
  const all = (outcome: Outcome): Outcome[] => messages.map(() => outcome);
  let returned: unknown;
  try {
    returned = handler.kind === "single" ? await handler.run(messages[0]!) : await handler.run(messages);
  } catch (error) {
    if (isRestartLater(error)) {
      return all({
        kind: "restartLater",
        delaySeconds: error.delaySeconds,
        reason: error.message,
        durationMs: elapsed(),
      });
    }
    if (isRateLimited(error)) {
      // Not a failure: the message comes back after the pause, which its queue's receives observe too.
      const seconds = retryAfterSeconds(error);
      const outcome = { delaySeconds: seconds, rateLimitedSeconds: seconds, reason: error.message };
      return all({ kind: "restartLater", ...outcome, durationMs: elapsed() });
    }
    return all({ kind: "failed", phase: "handler", error: serializeError(error), durationMs: elapsed() });
  }
  if (handler.kind === "single") return all({ kind: "ok", durationMs: elapsed() });
  return batchOutcomes(messages, returned, elapsed());
}

/**
 * Reads a batch handler's answer the way Lambda does: nothing (or no failures) means every message succeeded;
 * listed ids failed; an answer that is malformed or names a message not in the batch fails the whole batch.
 */
function batchOutcomes(messages: readonly ReceivedMessage[], returned: unknown, durationMs: number): Outcome[] {
  const ok: Outcome = { kind: "ok", durationMs };
  if (returned === undefined || returned === null) return messages.map(() => ok);
  const failures = (returned as Partial<BatchResult>).batchItemFailures;
  const ids = new Set(messages.map((message) => message.id));
  const failedIds = Array.isArray(failures)
    ? failures.map((failure: unknown) => (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier)
    : undefined;
  if (!failedIds || failedIds.some((id) => typeof id !== "string" || !ids.has(id))) {
    const error = serializeError(
      new TypeError(
        "a batch handler must return nothing or { batchItemFailures: [{ itemIdentifier: messageId }] } naming messages of its batch",
      ),
    );
    return messages.map(() => ({ kind: "failed", phase: "handler", error, durationMs }));
  }
  const failed = new Set(failedIds);
  const reported = serializeError(new Error("reported in batchItemFailures"));
  return messages.map((message) =>
    failed.has(message.id) ? { kind: "failed", phase: "handler", error: reported, durationMs } : ok,
  );
}
