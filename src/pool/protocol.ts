/**
 * The data the supervisor and the pool threads exchange. Everything here is plain, structured-clone-safe data:
 * functions, class instances and errors never cross the thread boundary as such. The messages on the pool's
 * channel are in channel-messages.ts.
 */
import type { MessageAttribute } from "../codecs/codec.js";
import type { TypeScriptLoader } from "../loader.js";
import type { SqsSettings } from "../sqs/settings.js";
import type { WireTrace } from "../telemetry/message-trace.js";
import type { TraceCarrier } from "../telemetry/trace-context.js";
import type { StrippedSources } from "../typescript-sources.js";

/** An SQS message as the supervisor received it, minus the receipt handle, which never leaves the supervisor. */
export interface WireMessage {
  readonly id: string;
  /**
   * The supervisor's id of this delivery of the message: a handler's extendVisibility names it, so a second
   * copy of the same message (SQS is at-least-once) cannot take over the running one's extension.
   */
  readonly deliveryId: number;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, MessageAttribute>>;
  /**
   * SQS's MD5 of the body as sent (`MD5OfBody`), which the thread checks where it decodes the body; absent
   * when the server sent none.
   */
  readonly md5OfBody?: string | undefined;
  /** The span contexts the thread's `process` span continues; absent when there is none. */
  readonly trace?: WireTrace | undefined;
}

/** One handler run: one message for a handler, up to `batchSize` for a batch handler. */
export interface HandlerRun {
  /** Unique within the pool; abort requests address the run by it. */
  readonly runId: number;
  /** This run's cell in the pool's shared maps (see {@link PoolWorkerData.threadMap}). */
  readonly slot: number;
  readonly messages: readonly WireMessage[];
}

/**
 * What one trip to a pool thread carries: one run or several, all for one queue. Several runs share the
 * thread hop (posting a task and its answer costs the supervisor more than a no-op handler's whole run), yet
 * each keeps its own abort, timeout and outcome. The thread starts a run when one of its `tasksPerThread`
 * permits is free, so packing never runs more handlers at once on a thread than one run per task would.
 */
export interface HandlerTask {
  /** Registered queue name; the thread looks the handler up by it. */
  readonly queue: string;
  readonly suffix: string | undefined;
  readonly fullName: string;
  /** The queue's visibility timeout: an idempotent receiver's in-progress lock lasts as long. */
  readonly visibilityTimeoutSeconds?: number;
  readonly runs: readonly HandlerRun[];
}

/** An error flattened for the trip across threads. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: string | undefined;
}

/**
 * Every place a handler run can fail, from the thread's own report to the supervisor's verdict. The thread
 * reports `setup` (a setup hook threw, or the queue has no handler there), `decode` (codec or schema) and
 * `handler`; the supervisor says `timeout` when the run outlived its `timeoutMs`, and `crash` when the thread
 * died under it. Metrics label failures with these names.
 */
export const FAILURE_PHASES = ["setup", "decode", "handler", "timeout", "crash"] as const;

/** Where a failed run failed; see {@link FAILURE_PHASES}. */
export type FailurePhase = (typeof FAILURE_PHASES)[number];

/** The phases a pool thread reports in a `failed` outcome; `timeout` and `crash` are the supervisor's to say. */
export type ThreadFailurePhase = Extract<FailurePhase, "setup" | "decode" | "handler">;

/**
 * What a handler run came to. A task that never ran (its thread could not load the receiver modules, or was
 * ended before it began) has no outcome: the pool rejects it with a `TaskNotStartedError`.
 */
export type Outcome = (
  | {
      readonly kind: "ok";
      readonly durationMs: number;
      /** An idempotent receiver's completed record existed: the handler did not run for this delivery. */
      readonly duplicate?: true;
      /** The handler ran, but its idempotency record could not be marked completed. */
      readonly recordError?: SerializedError;
      /** The thread's `process` span, for the supervisor's settle span and log lines. */
      readonly processSpan?: TraceCarrier;
    }
  | {
      readonly kind: "restartLater";
      readonly delaySeconds: number | undefined;
      readonly reason: string;
      /** The handler threw `RateLimited`: its queue stops receiving for this many seconds. */
      readonly rateLimitedSeconds?: number;
      readonly durationMs: number;
      /** The thread's `process` span, for the supervisor's settle span and log lines. */
      readonly processSpan?: TraceCarrier;
    }
  | {
      readonly kind: "failed";
      readonly phase: ThreadFailurePhase;
      readonly error: SerializedError;
      readonly durationMs: number;
      /** For decode failures, the codec that failed. */
      readonly codec?: string;
      /** The thread's `process` span, for the supervisor's settle span and log lines. */
      readonly processSpan?: TraceCarrier;
    }
) &
  PayloadReport;

/**
 * What an outcome tells the supervisor about large payloads (config `largePayloads`), which only it can act
 * on: the S3 object this message's body was read from (deleted after the message with
 * `deleteAfterProcessing`, and counted), and the offloaded sends the thread counted since its last outcome
 * (counted; carried here so that they cost no message of their own).
 */
export interface PayloadReport {
  readonly payload?: { readonly bucket: string; readonly key: string; readonly sizeBytes: number };
  readonly offloadedSends?: { readonly count: number; readonly bytes: number };
}

/**
 * What a run came to: one outcome per message, in the order of `HandlerRun.messages`; or `notStarted` when it
 * was aborted (a drain gave up waiting) while it still waited for a permit in its thread, so no handler saw it.
 */
export type RunResult = readonly Outcome[] | "notStarted";

/** What a task comes to: one result per run, in the order of `HandlerTask.runs`. */
export type TaskResult = readonly RunResult[];

/** What every pool thread starts with (piscina's workerData). */
export interface PoolWorkerData {
  /** Absolute paths of the receiver modules, imported in this order. */
  readonly receiverModules: readonly string[];
  readonly sqs: SqsSettings;
  /** Name of the pool's BroadcastChannel, which carries every {@link ChannelMessage}. */
  readonly channelName: string;
  /**
   * How the supervisor loaded the TypeScript among them (src/loader.ts): `tsx` registers tsx before the first
   * import, so a thread never tries Node's own loader first on files the supervisor saw it refuse.
   */
  readonly typescriptLoader: TypeScriptLoader;
  /**
   * The JavaScript of the TypeScript modules the supervisor loaded with Node's own loader, by file URL
   * (src/typescript-sources.ts): the thread loads them without instantiating Node's type stripper. The thread
   * drops it once its receivers are loaded.
   */
  typescriptSources?: StrippedSources | undefined;
  /** Absolute path of the app's `telemetry.setup` module, imported before the receiver modules. */
  readonly telemetrySetup?: string | undefined;
  /** How many runs this thread starts at once; later runs wait for a permit. */
  readonly tasksPerThread: number;
  /**
   * Int32 cells, one per run slot, written by the thread a run lands on: its thread id when it starts the
   * run, the negated id when it refuses it (it could not load the receiver modules), and 0 until then. Shared
   * memory, so that the supervisor can read a cell even while a handler blocks that thread's event loop.
   */
  readonly threadMap: SharedArrayBuffer;
  /**
   * BigInt64 cells, one per run slot: when the run started (epoch ms), 0 until then. A run's timeout counts
   * from here, not from when its task was posted, since a run of a packed task may wait for a permit.
   */
  readonly startTimes: SharedArrayBuffer;
}

/**
 * What a thread posts on its parentPort once it has loaded the receivers, and waits to be `admitted` before its
 * first task. piscina marks a thread started when its "ready" message, on that same port, is handled; a handler
 * that ended the thread at once could otherwise be heard first, and piscina then takes the thread for one that
 * failed to start and never replaces a thread again (the daemon would stop, exit 1, over an ordinary crash). The
 * pool answers only once piscina has reported the thread (`workerCreate`), whichever it hears first. Asked at
 * load, not at the first task, so that the first task does not wait for a round trip (under load, 0.3 to 0.5 s).
 */
export const ADMISSION = "sqsdAdmission";

/**
 * What a thread posts on its parentPort for runs of a task that ended while others of that task still run:
 * `[runId, result]` pairs. A run's outcome then reaches the supervisor when the run ends, not when its whole
 * task does, so its slot, timeout and message are settled at once, and a thread that dies later cannot take a
 * finished run down with it. Runs that end with their task come back in the task's own result only.
 */
export const RUN_RESULTS = "sqsdRunResults";

/** The payload under {@link RUN_RESULTS}. */
export type EarlyRunResults = readonly (readonly [runId: number, result: RunResult])[];

/**
 * What a broken thread could not load, for its error message: its `telemetry.setup` module (the error is a
 * TelemetrySetupError, named so when it crosses from the thread) or else its receiver modules.
 */
export function threadModules(error: Pick<SerializedError, "name">): string {
  return error.name === "TelemetrySetupError" ? "its telemetry.setup module" : "the receiver modules";
}

/** Flattens any thrown value for the trip across threads. Never throws, whatever was thrown. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    // V8 builds `stack` lazily from name and message: reading it throws when the message cannot be a string.
    let stack: unknown;
    try {
      stack = error.stack;
    } catch {
      stack = undefined;
    }
    return {
      name: typeof error.name === "string" ? error.name : "Error",
      message: typeof error.message === "string" ? error.message : describeValue(error.message),
      stack: typeof stack === "string" ? stack : undefined,
      code: typeof code === "string" ? code : undefined,
    };
  }
  return { name: "NonError", message: describeValue(error), stack: undefined, code: undefined };
}

/** `String(value)`, or its type tag for a value that cannot be made a string (`Object.create(null)`). */
function describeValue(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Rebuilds an Error from its serialized form, on the side that receives it. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  error.stack = serialized.stack ?? `${serialized.name}: ${serialized.message}`;
  if (serialized.code !== undefined) Object.assign(error, { code: serialized.code });
  return error;
}
