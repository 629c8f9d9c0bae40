import { resolveCodec } from "../codecs/codec.js";
import { receiverOptionsSchema, validate } from "../config/rules.js";
import { RegistrationError } from "../errors.js";
import { sendToQueue } from "../sqs/producer.js";
import { currentSqsSettings } from "../sqs/settings.js";
import { warn } from "../warnings.js";
import { fullQueueName, isFifoName, queueNameProblem } from "./names.js";
import { getRegistry } from "./registry.js";
import type {
  DirectMessage,
  Handler,
  ReceivedMessage,
  ReceiverOptions,
  ReceiverProxy,
  RegisteredQueue,
  SendOptions,
} from "./types.js";

/**
 * Registers `handler` as the receiver of a queue and returns a proxy that sends to it. Left out, the queue
 * name is the handler function's name. Call it at a module's top level, in a file listed under `receivers`.
 *
 * @example
 * ```ts
 * import { receiver } from "sqsd";
 *
 * export const resizeImage = receiver("thumbnails", { visibilityTimeoutSeconds: 120 }, async (message) => {
 *   await resize(message.body.imageId);
 * });
 *
 * await resizeImage({ imageId: 7 }); // sends
 * ```
 */
export function receiver<T = unknown>(handler: Handler<T>): ReceiverProxy<T>;
export function receiver<T = unknown>(options: ReceiverOptions<T>, handler: Handler<T>): ReceiverProxy<T>;
export function receiver<T = unknown>(name: string, handler: Handler<T>): ReceiverProxy<T>;
export function receiver<T = unknown>(name: string, options: ReceiverOptions<T>, handler: Handler<T>): ReceiverProxy<T>;
export function receiver<T = unknown>(
  ...args:
    [Handler<T>] | [ReceiverOptions<T>, Handler<T>] | [string, Handler<T>] | [string, ReceiverOptions<T>, Handler<T>]
): ReceiverProxy<T> {
  const handler = args[args.length - 1];
  const name = typeof args[0] === "string" ? args[0] : undefined;
  const options = args.length === 3 ? args[1] : typeof args[0] === "object" ? args[0] : {};
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
  return createProxy(registerQueue(queueName, handler, options ?? {}));
}

/**
 * Registers a queue without the proxy. Without a handler the queue is send-only: `send()` works, the daemon
 * does not consume it. This is django-sqs's `register()`.
 */
export function register<T = unknown>(
  name: string,
  handler?: Handler<T>,
  options: ReceiverOptions<T> = {},
): RegisteredQueue<T> {
  if (handler !== undefined && typeof handler !== "function") {
    throw new RegistrationError(name, `register("${name}") handler must be a function, got a ${typeof handler}`);
  }
  return registerQueue(name, handler, options);
}

function registerQueue<T>(
  name: string,
  handler: Handler<T> | undefined,
  rawOptions: ReceiverOptions<T>,
): RegisteredQueue<T> {
  if (typeof name !== "string") {
    throw new RegistrationError(String(name), `queue name must be a string, got a ${typeof name}`);
  }
  const problem = queueNameProblem(name);
  if (problem) throw new RegistrationError(name, `queue name "${name}" ${problem}`);
  const options = validate(receiverOptionsSchema, rawOptions, `queue "${name}" options`) as ReceiverOptions<T>;
  const queue = new Queue<T>(name, handler, options);
  getRegistry().add(queue as RegisteredQueue);
  return queue;
}

class Queue<T> implements RegisteredQueue<T> {
  readonly name: string;
  readonly handler: Handler<T> | undefined;
  readonly options: Readonly<ReceiverOptions<T>>;
  readonly codec;
  readonly fifo: boolean;
  readonly #warnedSuffixes = new Set<string>();

  constructor(name: string, handler: Handler<T> | undefined, options: ReceiverOptions<T>) {
    this.name = name;
    this.handler = handler;
    this.options = Object.freeze({ ...options });
    this.codec = resolveCodec(options.codec);
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

function createProxy<T>(queue: RegisteredQueue<T>): ReceiverProxy<T> {
  const send = async (body: T, options?: SendOptions): Promise<string> => sendToQueue(queue, body, options);
  const direct = async (message: DirectMessage<T>): Promise<unknown> => {
    const handler = queue.handler;
    if (!handler) throw new RegistrationError(queue.name, `queue "${queue.name}" has no handler`);
    return handler(directMessage(queue, message));
  };
  return Object.assign(send, { send, direct, queue });
}

function directMessage<T>(queue: RegisteredQueue<T>, message: DirectMessage<T>): ReceivedMessage<T> {
  const rawBody = message.rawBody ?? (typeof message.body === "string" ? message.body : JSON.stringify(message.body));
  return {
    id: message.id ?? "direct",
    body: message.body,
    rawBody: rawBody ?? "",
    attributes: message.attributes ?? {},
    messageAttributes: message.messageAttributes ?? {},
    receiveCount: message.receiveCount ?? 1,
    queue: { name: queue.name, fullName: queue.fullNameFor(message.suffix), suffix: message.suffix },
    sentAt: message.sentAt ?? new Date(),
    signal: message.signal ?? new AbortController().signal,
  };
}
