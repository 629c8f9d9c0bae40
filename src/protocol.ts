/**
 * The data the supervisor and the pool threads exchange. Everything here is plain, structured-clone-safe data:
 * functions, class instances and errors never cross the thread boundary as such.
 */
import type { MessageAttribute } from "./codecs/codec.js";
import type { SqsSettings } from "./sqs/settings.js";

/** An SQS message as the supervisor received it, minus the receipt handle, which never leaves the supervisor. */
export interface WireMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, MessageAttribute>>;
}

/** One handler run: one message for a handler, up to `batchSize` for a batch handler. */
export interface HandlerTask {
  /** Unique within the pool; abort requests address the run by it. */
  readonly taskId: number;
  /**
   * This task's cell in the pool's shared thread map: the thread writes its id there when it starts the task,
   * so the supervisor can end that thread even while a handler blocks its event loop.
   */
  readonly slot: number;
  /** Registered queue name; the thread looks the handler up by it. */
  readonly queue: string;
  readonly suffix: string | undefined;
  readonly fullName: string;
  readonly messages: readonly WireMessage[];
}

/** An error flattened for the trip across threads. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: string | undefined;
}

/** Where a failed run failed. `timeout` is set by the supervisor when the run outlived its `timeoutMs`. */
export type FailurePhase = "setup" | "decode" | "handler" | "timeout";

/** What a handler run came to. */
export type Outcome =
  | { readonly kind: "ok"; readonly durationMs: number }
  | {
      readonly kind: "restartLater";
      readonly delaySeconds: number | undefined;
      readonly reason: string;
      readonly durationMs: number;
    }
  | {
      readonly kind: "failed";
      readonly phase: FailurePhase;
      readonly error: SerializedError;
      readonly durationMs: number;
      /** For decode failures, the codec that failed. */
      readonly codec?: string;
    }
  /** The thread could not load the receiver modules: nothing can run there. */
  | { readonly kind: "broken"; readonly error: SerializedError };

/** What a task comes to: one outcome per message, in the order of `HandlerTask.messages`. */
export type TaskResult = readonly Outcome[];

/** What every pool thread starts with (piscina's workerData). */
export interface PoolWorkerData {
  /** Absolute paths of the receiver modules, imported in this order. */
  readonly receiverModules: readonly string[];
  readonly sqs: SqsSettings;
  /** BroadcastChannel name for {@link LifecycleMessage}s. */
  readonly lifecycleChannel: string;
  /** Int32 cells, one per slot: the id of the thread running the slot's task (see HandlerTask.slot). */
  readonly threadMap: SharedArrayBuffer;
}

/**
 * Messages on the pool's BroadcastChannel, which every thread and the supervisor share (piscina owns each
 * thread's parentPort). One channel rather than a MessageChannel per task: control messages are rare, and
 * creating and transferring a port for every message measurably cut throughput.
 */
export type LifecycleMessage =
  | { readonly type: "ready"; readonly threadId: number }
  /** Supervisor → the thread running `taskId`: abort the handler's signal. */
  | { readonly type: "abort"; readonly taskId: number; readonly reason: string }
  /** Thread → supervisor: a handler called `message.extendVisibility(seconds)`. */
  | {
      readonly type: "extendVisibility";
      readonly requestId: string;
      readonly messageId: string;
      readonly seconds: number;
    }
  /** Supervisor → thread: how an extendVisibility request ended. */
  | {
      readonly type: "extendVisibilityResult";
      readonly requestId: string;
      readonly ok: boolean;
      readonly error?: string;
    }
  | { readonly type: "broken"; readonly threadId: number; readonly error: SerializedError }
  | { readonly type: "teardown" }
  | { readonly type: "tornDown"; readonly threadId: number; readonly errors: readonly SerializedError[] };

/** Flattens any thrown value for the trip across threads. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: typeof code === "string" ? code : undefined,
    };
  }
  return { name: "NonError", message: String(error), stack: undefined, code: undefined };
}
