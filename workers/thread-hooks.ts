import { serializeError, type SerializedError } from "../src/pool/protocol.js";
import type { RegisteredQueue } from "../src/registry/types.js";

/**
 * Per-thread `setup`/`teardown` hooks. Setup runs before a queue's first message in this thread; if it fails,
 * that message fails and the next one tries setup again. Teardown runs for the queues whose setup succeeded.
 */
export class ThreadHooks {
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
