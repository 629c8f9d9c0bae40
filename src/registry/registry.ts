import { RegistrationError, UnknownQueueError } from "../errors.js";
import type { RegisteredQueue } from "./types.js";

/**
 * All queues registered in this thread, keyed by registered name. Receiver modules fill it as a side effect
 * of being imported; the supervisor reads it to know what to poll and each pool thread to find handlers.
 */
export class Registry {
  readonly #queues = new Map<string, RegisteredQueue>();

  /** Adds a queue; a second registration of the same name is an error (django-sqs silently replaced it). */
  add(queue: RegisteredQueue): void {
    if (this.#queues.has(queue.name)) {
      throw new RegistrationError(queue.name, `queue "${queue.name}" is registered twice; queue names must be unique`);
    }
    this.#queues.set(queue.name, queue);
  }

  /** The queue registered as `name`, or undefined. */
  find(name: string): RegisteredQueue | undefined {
    return this.#queues.get(name);
  }

  /** The queue registered as `name`; throws {@link UnknownQueueError} listing the known names otherwise. */
  get(name: string): RegisteredQueue {
    const queue = this.#queues.get(name);
    if (!queue) throw new UnknownQueueError(name, [...this.#queues.keys()]);
    return queue;
  }

  /** Every registered queue, in registration order. */
  list(): RegisteredQueue[] {
    return [...this.#queues.values()];
  }

  /** Forgets every queue (tests, and re-loading receivers in one process). */
  clear(): void {
    this.#queues.clear();
  }
}

// On globalThis under a registered symbol, so two copies of sqsd in one thread (a linked checkout next to an
// installed one) still share one registry and receivers are not silently invisible to the daemon.
const REGISTRY_KEY = Symbol.for("sqsd.registry");

/** This thread's registry. */
export function getRegistry(): Registry {
  const holder = globalThis as { [REGISTRY_KEY]?: Registry };
  holder[REGISTRY_KEY] ??= new Registry();
  return holder[REGISTRY_KEY];
}
