import { performance } from "node:perf_hooks";
import { BroadcastChannel, threadId } from "node:worker_threads";
import { importUserModule } from "../src/loader.js";
import {
  serializeError,
  type HandlerTask,
  type LifecycleMessage,
  type Outcome,
  type PoolWorkerData,
  type SerializedError,
} from "../src/protocol.js";
import { getRegistry } from "../src/registry/registry.js";
import type { ReceivedMessage, RegisteredQueue } from "../src/registry/types.js";
import { isRestartLater } from "../src/restart-later.js";
import { configureSqs } from "../src/sqs/settings.js";

/** Runs one task in this thread. */
export type TaskRunner = (task: HandlerTask) => Promise<Outcome>;

/**
 * Prepares this thread: SQS settings for handlers that send, then the receiver modules, imported once. Tells
 * the supervisor on the lifecycle channel whether that worked. A thread that could not load them answers every
 * task with a `broken` outcome, so it can never run a handler half-loaded.
 */
export async function startThread(data: PoolWorkerData): Promise<TaskRunner> {
  configureSqs(data.sqs);
  const channel = new BroadcastChannel(data.lifecycleChannel);
  // Piscina keeps the thread alive; the channel must not, or a destroyed pool could leave it hanging.
  channel.unref();
  const announce = (message: LifecycleMessage): void => channel.postMessage(message);
  try {
    for (const file of data.receiverModules) await importUserModule(file);
  } catch (error) {
    const serialized = serializeError(error);
    announce({ type: "broken", threadId, error: serialized });
    return async () => ({ kind: "broken", error: serialized });
  }
  const hooks = new ThreadHooks();
  /** Abort controllers of the tasks running in this thread, by task id. */
  const running = new Map<number, AbortController>();
  channel.onmessage = (event) => {
    const message = (event as { data: LifecycleMessage }).data;
    if (message.type === "abort") running.get(message.taskId)?.abort(new Error(message.reason));
    else if (message.type === "teardown") {
      void hooks.teardown().then((errors) => announce({ type: "tornDown", threadId, errors }));
    }
  };
  announce({ type: "ready", threadId });
  return async (task) => {
    const abort = new AbortController();
    running.set(task.taskId, abort);
    try {
      return await runTask(task, hooks, abort.signal);
    } finally {
      running.delete(task.taskId);
    }
  };
}

async function runTask(task: HandlerTask, hooks: ThreadHooks, signal: AbortSignal): Promise<Outcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const queue = getRegistry().find(task.queue);
  if (!queue?.handler) {
    const error = new Error(`queue "${task.queue}" has no handler in this thread`);
    return { kind: "failed", phase: "setup", error: serializeError(error), durationMs: elapsed() };
  }
  try {
    await hooks.setUp(queue);
  } catch (error) {
    return { kind: "failed", phase: "setup", error: serializeError(error), durationMs: elapsed() };
  }
  let body: unknown;
  try {
    body = queue.codec.decode(task.message.body, {
      messageId: task.message.id,
      messageAttributes: task.message.messageAttributes,
    });
  } catch (error) {
    return { kind: "failed", phase: "decode", error: serializeError(error), durationMs: elapsed() };
  }
  try {
    await queue.handler(toReceivedMessage(task, body, signal));
    return { kind: "ok", durationMs: elapsed() };
  } catch (error) {
    if (isRestartLater(error)) {
      return { kind: "restartLater", delaySeconds: error.delaySeconds, reason: error.message, durationMs: elapsed() };
    }
    return { kind: "failed", phase: "handler", error: serializeError(error), durationMs: elapsed() };
  }
}

function toReceivedMessage(task: HandlerTask, body: unknown, signal: AbortSignal): ReceivedMessage {
  const { message } = task;
  const sentTimestamp = Number(message.attributes["SentTimestamp"]);
  return {
    id: message.id,
    body,
    rawBody: message.body,
    attributes: message.attributes,
    messageAttributes: message.messageAttributes,
    receiveCount: Number(message.attributes["ApproximateReceiveCount"] ?? "1"),
    queue: { name: task.queue, fullName: task.fullName, suffix: task.suffix },
    sentAt: new Date(Number.isFinite(sentTimestamp) ? sentTimestamp : Date.now()),
    signal,
  };
}

/**
 * Per-thread `setup`/`teardown` hooks. Setup runs before a queue's first message in this thread; if it fails,
 * that message fails and the next one tries setup again. Teardown runs for the queues whose setup succeeded.
 */
class ThreadHooks {
  readonly #setups = new Map<string, Promise<void>>();
  readonly #setUpQueues: RegisteredQueue[] = [];

  setUp(queue: RegisteredQueue): Promise<void> {
    const setup = queue.options.setup;
    if (!setup) return Promise.resolve();
    let done = this.#setups.get(queue.name);
    if (!done) {
      done = Promise.resolve()
        .then(() => setup())
        .then(
          () => void this.#setUpQueues.push(queue),
          (error: unknown) => {
            this.#setups.delete(queue.name);
            throw error;
          },
        );
      this.#setups.set(queue.name, done);
    }
    return done;
  }

  async teardown(): Promise<SerializedError[]> {
    const errors: SerializedError[] = [];
    for (const queue of this.#setUpQueues.splice(0)) {
      try {
        await queue.options.teardown?.();
      } catch (error) {
        errors.push(serializeError(error));
      }
    }
    return errors;
  }
}
