/**
 * A pool thread's side of the pool's channel. Runs only in pool threads (workers/ imports it); the supervisor
 * never does.
 */
import { parentPort, threadId } from "node:worker_threads";
import { errorSummary } from "../errors.js";
import { ChannelEndpoint } from "./channel.js";
import { ADMISSION, serializeError, type SerializedError } from "./protocol.js";
import type { SupervisorServices, ThreadServices } from "./channel-messages.js";

/** What the thread does when the supervisor speaks to it. */
export interface ThreadChannelHandlers {
  /** The supervisor aborts run `runId`; ignore it if that run is not in this thread. */
  readonly abort?: (runId: number, reason: string) => void;
  /** The pool is closing: run the teardown hooks and return the errors they threw. */
  readonly teardown?: () => Promise<readonly SerializedError[]>;
}

/**
 * This thread on the pool's channel: it announces whether it could load the receiver modules, hears aborts
 * and the pool's teardown, and asks the supervisor for what only the supervisor can do (it holds the receipt
 * handles), such as extending a message's visibility.
 */
export class ThreadChannel {
  readonly #endpoint: ChannelEndpoint<ThreadServices, SupervisorServices>;
  #handlers: ThreadChannelHandlers = {};
  #admitted: Promise<void> | undefined;
  #admit: (() => void) | undefined;

  constructor(channelName: string, options: { readonly requestTimeoutMs?: number } = {}) {
    this.#endpoint = new ChannelEndpoint({
      channelName,
      address: threadId,
      keepsThreadAlive: false,
      ...options,
      onLifecycle: (message) => {
        if (message.type === "abort") this.#handlers.abort?.(message.runId, message.reason);
        else if (message.type === "teardown" && (message.threadId ?? threadId) === threadId) void this.#tearDown();
        else if (message.type === "admitted" && message.threadId === threadId) this.#admit?.();
      },
    });
  }

  /** The receiver modules loaded: this thread takes tasks. `handlers` answer the supervisor from now on. */
  announceReady(handlers: ThreadChannelHandlers): void {
    this.#handlers = handlers;
    this.#endpoint.post({ type: "ready", threadId });
  }

  /**
   * Resolves once the supervisor has seen that piscina counts this thread as started (see ADMISSION): await
   * it before running a task. Asked once per thread, when it has loaded; later calls share the answer.
   */
  admitted(): Promise<void> {
    this.#admitted ??= new Promise<void>((resolve) => {
      this.#admit = resolve;
      parentPort?.postMessage({ [ADMISSION]: threadId });
    });
    return this.#admitted;
  }

  /** The receiver modules did not load: this thread refuses every task, and the pool stops. */
  announceBroken(error: SerializedError): void {
    this.#endpoint.post({ type: "broken", threadId, error });
  }

  /**
   * Asks the supervisor to keep a delivery's message hidden, `seconds` from now. Resolves once SQS accepted
   * it; rejects if the supervisor could not (the message is no longer running, the receipt expired, the
   * request failed or timed out).
   */
  async extendVisibility(deliveryId: number, seconds: number): Promise<void> {
    let extended: boolean;
    try {
      extended = await this.#endpoint.request("supervisor", "extendVisibility", deliveryId, seconds);
    } catch (error) {
      throw new Error(`the visibility timeout could not be extended: ${errorSummary(error)}`, { cause: error });
    }
    if (!extended) throw new Error("the visibility timeout could not be extended");
  }

  async #tearDown(): Promise<void> {
    // A thread without hooks (one that could not load the receivers) still answers, so close() need not wait
    // for it until its timeout.
    let errors: readonly SerializedError[];
    try {
      errors = (await this.#handlers.teardown?.()) ?? [];
    } catch (error) {
      errors = [serializeError(error)];
    }
    this.#endpoint.post({ type: "tornDown", threadId, errors });
  }
}
