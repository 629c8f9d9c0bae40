/**
 * `receiver()` and `register()`, built around a check of the options they are given. The supervisor's copy
 * (receiver.ts) checks them against the config rules, which load zod; a pool thread's copy (thread-receiver.ts)
 * takes them as they are, because the supervisor imported the same receiver modules first and checked the same
 * calls: a thread need not load the rules (about 9 MiB per thread) to repeat that.
 */
import { resolveCodec } from "../codecs/codec.js";
import { RegistrationError } from "../errors.js";
import { SQS_LIMITS } from "../limits.js";
import { sendToQueue } from "./producer.js";
import { currentSqsSettings } from "../sqs/settings.js";
import { warn } from "../warnings.js";
import { fullQueueName, isFifoName, queueNameProblem } from "../queue-names.js";
import { getRegistry } from "./registry.js";
import type {
  BatchHandler,
  BatchReceiverOptions,
  BatchReceiverProxy,
  DirectMessage,
  Handler,
  ReceivedMessage,
  ReceiverOptions,
  ReceiverProxy,
  RegisteredQueue,
  SendOptions,
} from "./types.js";

/** The `receiver` function, with `receiver.batch` for batch handlers. */
export interface ReceiverFunction {
  <T = unknown, TSend = T>(handler: Handler<T>): ReceiverProxy<T, TSend>;
  <T = unknown, TSend = T>(options: ReceiverOptions<T, TSend>, handler: Handler<T>): ReceiverProxy<T, TSend>;
  <T = unknown, TSend = T>(name: string, handler: Handler<T>): ReceiverProxy<T, TSend>;
  <T = unknown, TSend = T>(
    name: string,
    options: ReceiverOptions<T, TSend>,
    handler: Handler<T>,
  ): ReceiverProxy<T, TSend>;
  /**
   * Registers a batch handler: it gets up to `batchSize` (at most 10) messages at once, on a worker thread,
   * and reports the ones that failed in Lambda's `batchItemFailures` shape. Only those stay in the queue; a
   * throw leaves the whole batch.
   *
   * @example
   * ```ts
   * export const index = receiver.batch<Doc>("search-index", { batchSize: 10 }, async (messages) => {
   *   const failed = await search.bulkIndex(messages.map((message) => message.body));
   *   return { batchItemFailures: failed.map((doc) => ({ itemIdentifier: doc.messageId })) };
   * });
   * ```
   */
  batch<T = unknown, TSend = T>(
    name: string,
    options: BatchReceiverOptions<T, TSend>,
    handler: BatchHandler<T>,
  ): BatchReceiverProxy<T, TSend>;
  batch<T = unknown, TSend = T>(name: string, handler: BatchHandler<T>): BatchReceiverProxy<T, TSend>;
}

/** Checks the options a receiver was registered with, and returns them as registered; throws if they are wrong. */
export type OptionsCheck = (
  options: BatchReceiverOptions<unknown, unknown>,
  batch: boolean,
  subject: string,
) => BatchReceiverOptions<unknown, unknown>;

/** The `register` function. */
export type RegisterFunction = <T = unknown, TSend = T>(
  name: string,
  handler?: Handler<T>,
  options?: ReceiverOptions<T, TSend>,
) => RegisteredQueue<T, TSend>;

/** `receiver()` and `register()`, each checking the options it is given with `check`. */
export function receiverApi(check: OptionsCheck): { receiver: ReceiverFunction; register: RegisterFunction } {
  const registerQueue = <T, TSend>(
    name: string,
    rawOptions: BatchReceiverOptions<T, TSend>,
    handler: RegisteredQueue<T, TSend>["handler"],
  ): RegisteredQueue<T, TSend> => {
    if (typeof name !== "string") {
      throw new RegistrationError(String(name), `queue name must be a string, got a ${typeof name}`);
    }
    const problem = queueNameProblem(name);
    if (problem) throw new RegistrationError(name, `queue name "${name}" ${problem}`);
    const options = check(rawOptions, handler?.kind === "batch", `queue "${name}" options`) as BatchReceiverOptions<
      T,
      TSend
    >;
    const queue = new Queue<T, TSend>(name, handler, options);
    getRegistry().add(queue as unknown as RegisteredQueue);
    return queue;
  };

  const receiver = Object.assign(
    (...args: unknown[]): ReceiverProxy<unknown> => {
      const handler = args[args.length - 1];
      const name = typeof args[0] === "string" ? args[0] : undefined;
      const options = (args.length === 3 ? args[1] : typeof args[0] === "object" ? args[0] : {}) as ReceiverOptions;
      if (typeof handler !== "function") {
        throw new RegistrationError(
          name ?? "(unnamed)",
          `receiver(${name ?? ""}) needs a handler function as its last argument`,
        );
      }
      const queueName = name ?? handler.name;
      if (queueName === "") {
        throw new RegistrationError(
          "(unnamed)",
          "receiver() was given an anonymous handler and no name; pass a queue name or use a named function",
        );
      }
      const queue = registerQueue(queueName, options ?? {}, { kind: "single", run: handler as Handler });
      return createProxy(queue);
    },
    {
      batch(name: string, ...rest: unknown[]): BatchReceiverProxy<unknown> {
        const handler = rest[rest.length - 1];
        const options = (rest.length === 2 ? rest[0] : {}) as BatchReceiverOptions;
        if (typeof handler !== "function") {
          throw new RegistrationError(name, `receiver.batch("${name}") needs a handler function as its last argument`);
        }
        const queue = registerQueue(name, options ?? {}, {
          kind: "batch",
          run: handler as BatchHandler,
          batchSize: options?.batchSize ?? SQS_LIMITS.maxBatchEntries,
        });
        return createBatchProxy(queue);
      },
    },
  ) as ReceiverFunction;

  const register = <T = unknown, TSend = T>(
    name: string,
    handler?: Handler<T>,
    options: ReceiverOptions<T, TSend> = {},
  ): RegisteredQueue<T, TSend> => {
    if (handler !== undefined && typeof handler !== "function") {
      throw new RegistrationError(name, `register("${name}") handler must be a function, got a ${typeof handler}`);
    }
    return registerQueue(name, options, handler ? { kind: "single", run: handler } : undefined);
  };

  return { receiver, register };
}

class Queue<T, TSend> implements RegisteredQueue<T, TSend> {
  readonly name: string;
  readonly handler: RegisteredQueue<T, TSend>["handler"];
  readonly options: Readonly<BatchReceiverOptions<T, TSend>>;
  readonly codec;
  readonly fifo: boolean;
  readonly #warnedSuffixes = new Set<string>();

  constructor(name: string, handler: RegisteredQueue<T, TSend>["handler"], options: BatchReceiverOptions<T, TSend>) {
    this.name = name;
    this.handler = handler;
    this.options = Object.freeze({ ...options });
    this.codec = resolveCodec<T, TSend>(options.codec);
    this.fifo = isFifoName(name);
  }

  get fullName(): string {
    return this.fullNameFor(undefined);
  }

  fullNameFor(suffix?: string): string {
    if (suffix !== undefined && !(this.options.suffixes ?? []).includes(suffix) && !this.#warnedSuffixes.has(suffix)) {
      // The seed warned and carried on; so does sqsd, once per suffix so a hot send path does not flood the log.
      this.#warnedSuffixes.add(suffix);
      warn(`queue "${this.name}" has no declared suffix "${suffix}"; using it anyway`, "SQSD_UNKNOWN_SUFFIX");
    }
    const fullName = fullQueueName({ prefix: currentSqsSettings().queuePrefix, name: this.name, suffix });
    const problem = queueNameProblem(fullName);
    if (problem) throw new RegistrationError(this.name, `full queue name "${fullName}" ${problem}`);
    return fullName;
  }
}

function sender<T, TSend>(queue: RegisteredQueue<T, TSend>) {
  return async (body: TSend, options?: SendOptions): Promise<string> => sendToQueue(queue, body, options);
}

function createProxy<T, TSend>(queue: RegisteredQueue<T, TSend>): ReceiverProxy<T, TSend> {
  const send = sender(queue);
  const direct = async (message: DirectMessage<T>): Promise<unknown> => {
    if (queue.handler?.kind !== "single")
      throw new RegistrationError(queue.name, `queue "${queue.name}" has no handler`);
    return queue.handler.run(directMessage<T, TSend>(queue, message));
  };
  return Object.assign(send, { send, direct, queue });
}

function createBatchProxy<T, TSend>(queue: RegisteredQueue<T, TSend>): BatchReceiverProxy<T, TSend> {
  const send = sender(queue);
  const direct = async (messages: readonly DirectMessage<T>[]) => {
    if (queue.handler?.kind !== "batch")
      throw new RegistrationError(queue.name, `queue "${queue.name}" has no batch handler`);
    return queue.handler.run(messages.map((message) => directMessage<T, TSend>(queue, message)));
  };
  return Object.assign(send, { send, direct, queue });
}

function directMessage<T, TSend>(queue: RegisteredQueue<T, TSend>, message: DirectMessage<T>): ReceivedMessage<T> {
  const rawBody = message.rawBody ?? (typeof message.body === "string" ? message.body : JSON.stringify(message.body));
  return {
    id: message.id ?? "direct",
    body: message.body,
    rawBody: rawBody ?? "",
    ref: message.ref,
    payload: message.payload ?? { location: "inline" },
    attributes: message.attributes ?? {},
    messageAttributes: message.messageAttributes ?? {},
    receiveCount: message.receiveCount ?? 1,
    queue: { name: queue.name, fullName: queue.fullNameFor(message.suffix), suffix: message.suffix },
    sentAt: message.sentAt ?? new Date(),
    signal: message.signal ?? new AbortController().signal,
    // In-process there is no SQS message to extend.
    extendVisibility: async () => undefined,
  };
}
