import { NEVER_DELETED_DECODE_CODES, PAYLOAD_UNREADABLE_CODES } from "../codecs/errors.js";
import type { RetryOptions } from "../config/types.js";
import { errorSummary } from "../errors.js";
import { TaskNotStartedError } from "../pool-errors.js";
import { serializeError, type FailurePhase, type Outcome } from "../pool/protocol.js";
import type { ReceiverOptions } from "../registry/types.js";
import type { SettledAs } from "./events.js";
import { retryDelaySeconds } from "./retry.js";
import type { SettleReport } from "../telemetry/message-trace.js";

/** How a handler run ended, as the supervisor saw it: an outcome from the thread, or the thread dying under it. */
export type RunEnd = Outcome | { readonly kind: "crashed"; readonly error: unknown };

/** What the settlement of one message depends on besides how its run ended. */
export interface SettleContext {
  readonly options: Pick<ReceiverOptions, "onError" | "deleteOnStart" | "retry">;
  /** Retry delays for queues that set none (config `defaults.retry`). */
  readonly defaultRetry: RetryOptions | false;
  readonly receiveCount: number;
  /** The run outlived its `timeoutMs`. */
  readonly timedOut: boolean;
  /** A drain gave up waiting for running handlers: a failure now is an interruption, not a fault. */
  readonly interrupting: boolean;
}

/** What to do with the message in SQS. `release` makes it receivable at once (visibility 0). */
export type SqsAction =
  | { readonly kind: "delete" }
  | { readonly kind: "changeVisibility"; readonly seconds: number }
  | { readonly kind: "release" }
  | { readonly kind: "leave" };

/** One log line; the dispatcher adds the message's own fields (queue, id, receive count). */
export interface SettlementLog {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The whole decision for one message whose run is over; the dispatcher carries it out. */
export interface Settlement {
  readonly action: SqsAction;
  readonly settledAs: SettledAs;
  /** Where a failed run failed. */
  readonly phase: FailurePhase | undefined;
  /** The handler's own time, when it ran. */
  readonly durationMs: number | undefined;
  /** Counts as processed: the handler had its turn. A message handed back untried or interrupted does not. */
  readonly counted: boolean;
  readonly logs: readonly SettlementLog[];
}

/**
 * Decides what becomes of a message once its handler run is over. This is sqsd's delivery contract in one
 * place: only success deletes (or `onError: "delete"`, by choice); a failure leaves the message for
 * redelivery, after the retry backoff if one is set; a run cut short by shutdown hands the message straight
 * back; nothing is ever deleted because a thread died.
 */
export function settle(end: RunEnd, context: SettleContext): Settlement {
  const { deleteOnStart } = context.options;
  if (end.kind === "crashed" && end.error instanceof TaskNotStartedError) {
    return {
      ...untried("notStarted"),
      action: release(deleteOnStart),
      logs: [
        log(
          deleteOnStart ? "error" : "warn",
          deleteOnStart
            ? `message lost: deleted on start, and ${end.error.why}`
            : `message given back unstarted: ${end.error.why}`,
          { outcome: "notStarted", error: errorSummary(end.error.cause) },
        ),
      ],
    };
  }
  if ((end.kind === "failed" || end.kind === "crashed") && context.interrupting) {
    return {
      ...untried("interrupted"),
      action: release(deleteOnStart),
      logs: [log("warn", "handler interrupted by shutdown; message released", { outcome: "interrupted" })],
    };
  }
  switch (end.kind) {
    case "ok":
      return {
        ...handled("ok", end.durationMs),
        action: deleteOnStart ? LEAVE : { kind: "delete" },
        logs: [okLog(end)],
      };
    case "restartLater": {
      const thrown = end.rateLimitedSeconds === undefined ? "RestartLater" : "RateLimited";
      const logs = [
        log("info", `message left for later (${thrown})`, {
          durationMs: end.durationMs,
          outcome: "restartLater",
          reason: end.reason,
          delaySeconds: end.delaySeconds,
        }),
      ];
      if (deleteOnStart) {
        logs.push(log("warn", "RestartLater has no effect with deleteOnStart: the message was already deleted", {}));
      }
      return {
        ...handled("restartLater", end.durationMs),
        action:
          deleteOnStart || end.delaySeconds === undefined
            ? LEAVE
            : { kind: "changeVisibility", seconds: end.delaySeconds },
        logs,
      };
    }
    case "failed": {
      const phase: FailurePhase = context.timedOut ? "timeout" : end.phase;
      const failure = {
        durationMs: end.durationMs,
        ...failureFields(phase, context),
        error: `${end.error.name}: ${end.error.message}`,
      };
      // A decode failure is about the message, not the code: its stack says nothing, and the body is never
      // logged (it can hold personal data).
      const line =
        phase === "decode"
          ? log("error", "message could not be decoded", { ...failure, codec: end.codec })
          : phase === "timeout"
            ? log("error", "handler timed out", failure)
            : log("error", `${phase} failed`, { ...failure, stack: end.error.stack });
      // A body that could not be read from S3, or that changed on the way (its MD5), says nothing about the
      // message: onError "delete" would throw away a body nobody has seen, so it is left for a retry and its
      // redrive policy.
      const code = end.error.code ?? "";
      const unreadable =
        phase === "decode" && (PAYLOAD_UNREADABLE_CODES.has(code) || NEVER_DELETED_DECODE_CODES.has(code));
      return {
        ...handled("failed", end.durationMs, phase),
        action: afterFailure(context, unreadable),
        logs: [line],
      };
    }
    case "crashed": {
      // The thread died under the run (or was ended after a timeout): a failure, never a success.
      const phase: FailurePhase = context.timedOut ? "timeout" : "crash";
      const line = log("error", phase === "timeout" ? "handler timed out" : "handler thread died", {
        ...failureFields(phase, context),
        error: errorSummary(end.error),
      });
      return { ...handled("failed", undefined, phase), action: afterFailure(context), logs: [line] };
    }
  }
}

const LEAVE: SqsAction = { kind: "leave" };

/**
 * After a failure: delete (`onError: "delete"`, unless `neverDelete`), or leave it for a retry, after the
 * retry backoff if any.
 */
function afterFailure(context: SettleContext, neverDelete = false): SqsAction {
  const { onError, deleteOnStart, retry } = context.options;
  if (deleteOnStart) return LEAVE;
  if (onError === "delete" && !neverDelete) return { kind: "delete" };
  const delaySeconds = retryDelaySeconds(retry ?? context.defaultRetry, context.receiveCount);
  return delaySeconds === undefined ? LEAVE : { kind: "changeVisibility", seconds: delaySeconds };
}

/** A message already deleted (deleteOnStart) has nothing to release. */
function release(deleteOnStart: boolean | undefined): SqsAction {
  return deleteOnStart ? LEAVE : { kind: "release" };
}

function handled(settledAs: SettledAs, durationMs: number | undefined, phase?: FailurePhase) {
  return { settledAs, phase, durationMs, counted: true } as const;
}

function untried(settledAs: SettledAs) {
  return { settledAs, phase: undefined, durationMs: undefined, counted: false, logs: [] } as const;
}

function failureFields(phase: FailurePhase, context: SettleContext): Record<string, unknown> {
  return { outcome: "failed", phase, onError: context.options.onError ?? "retry" };
}

function log(level: SettlementLog["level"], message: string, fields: Record<string, unknown>): SettlementLog {
  return { level, message, fields };
}

/** A failed run's error class and message: what the dashboard shows, never a stack nor the message body. */
export function failureOf(end: RunEnd): { name: string; message: string } {
  if (end.kind === "failed") return { name: end.error.name, message: end.error.message };
  if (end.kind === "crashed") {
    // serializeError, not String(): a thrown null-prototype object would make String() throw inside settle.
    const { name, message } = serializeError(end.error);
    return { name, message };
  }
  return { name: "Error", message: `the run ended as ${end.kind}` };
}

/** What a settle span says: the SQS call, and how the run ended. */
export function settleReport(end: RunEnd, settlement: Settlement): SettleReport {
  const { action } = settlement;
  const error = end.kind === "failed" ? end.error : end.kind === "crashed" ? serializeError(end.error) : undefined;
  return {
    operation: action.kind === "delete" ? "delete" : action.kind === "leave" ? "leave" : "change_visibility",
    outcome: settlement.settledAs,
    phase: settlement.phase,
    errorType: settlement.phase === undefined ? undefined : error?.name,
  };
}

/**
 * The line of a success: debug, except for an idempotent receiver's duplicate (info, without the body or the
 * key's value) and a completed record that could not be saved (warn: a producer duplicate may run again).
 */
function okLog(end: Extract<RunEnd, { kind: "ok" }>): SettlementLog {
  if (end.duplicate) {
    return log("info", "message settled as a duplicate (idempotency): its key completed before", {
      durationMs: end.durationMs,
      outcome: "duplicate",
    });
  }
  if (end.recordError) {
    return log("warn", "handler succeeded but its idempotency record could not be completed", {
      durationMs: end.durationMs,
      outcome: "ok",
      error: `${end.recordError.name}: ${end.recordError.message}`,
    });
  }
  // Debug, not info: at production rates a line per message costs more in log ingestion than in SQS.
  return log("debug", "message processed", { durationMs: end.durationMs, outcome: "ok" });
}
