import { runOnce } from "../src/idempotency/guard.js";
import { serializeError, type HandlerTask, type Outcome } from "../src/pool/protocol.js";
import type { ReceivedMessage, RegisteredQueue } from "../src/registry/types.js";
import { isRateLimited, retryAfterSeconds } from "../src/rate-limited.js";
import { isRestartLater } from "../src/restart-later.js";
import { runHandler } from "./handler-call.js";

/** The visibility a task's queue has when the task does not say (the config's default). */
const DEFAULT_VISIBILITY_SECONDS = 60;

/**
 * Runs the queue's handler on decoded messages, through the queue's `idempotency` store when it has one (a
 * single-message handler: the config rules refuse it on batch handlers). One outcome per message.
 */
export async function runGuardedHandler(
  task: HandlerTask,
  queue: RegisteredQueue,
  messages: readonly ReceivedMessage[],
  elapsed: () => number,
): Promise<Outcome[]> {
  const idempotency = queue.options.idempotency;
  const handler = queue.handler;
  if (!idempotency || handler?.kind !== "single" || messages.length !== 1) return runHandler(queue, messages, elapsed);
  const message = messages[0]!;
  // The lock lasts as long as this delivery can: its visibility, or its timeout and the second after it that
  // a timed-out handler gets. A replica that dies holding it frees it then, when SQS shows the message again.
  const visibilitySeconds =
    task.visibilityTimeoutSeconds ?? queue.options.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_SECONDS;
  const lockMs = Math.max(visibilitySeconds * 1000, (queue.options.timeoutMs ?? 0) + 1000);
  try {
    const run = await runOnce(idempotency, queue.name, message, lockMs, async () => handler.run(message));
    switch (run.kind) {
      case "duplicate":
        return [{ kind: "ok", durationMs: elapsed(), duplicate: true }];
      case "inProgress":
        return [
          {
            kind: "restartLater",
            delaySeconds: run.retryAfterSeconds,
            reason: "idempotency key in progress in another delivery",
            durationMs: elapsed(),
          },
        ];
      case "ran":
        return [
          {
            kind: "ok",
            durationMs: elapsed(),
            ...(run.recordError === undefined ? {} : { recordError: serializeError(run.recordError) }),
          },
        ];
    }
  } catch (error) {
    if (isRestartLater(error)) {
      return [{ kind: "restartLater", delaySeconds: error.delaySeconds, reason: error.message, durationMs: elapsed() }];
    }
    if (isRateLimited(error)) {
      // As runHandler reads it: not a failure; the key was released, and the queue pauses as long.
      const seconds = retryAfterSeconds(error);
      const outcome = { delaySeconds: seconds, rateLimitedSeconds: seconds, reason: error.message };
      return [{ kind: "restartLater", ...outcome, durationMs: elapsed() }];
    }
    return [{ kind: "failed", phase: "handler", error: serializeError(error), durationMs: elapsed() }];
  }
}
