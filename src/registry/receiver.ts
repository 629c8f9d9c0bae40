/**
 * The public `receiver()` and `register()`: options are checked against the config rules (zod), so a mistake
 * fails where the receiver module is imported, naming the queue and the field. Pool threads use
 * thread-receiver.ts instead (see receiver-api.ts).
 */
import { batchReceiverOptionsSchema, receiverOptionsSchema, validate } from "../config/rules.js";
import type { BatchReceiverOptions } from "./types.js";
import { receiverApi, type ReceiverFunction, type RegisterFunction } from "./receiver-api.js";

export type { ReceiverFunction, RegisterFunction } from "./receiver-api.js";

const api = receiverApi(
  (options, batch, subject) =>
    validate(batch ? batchReceiverOptionsSchema : receiverOptionsSchema, options, subject) as BatchReceiverOptions<
      unknown,
      unknown
    >,
);

/**
 * Registers `handler` as the receiver of a queue and returns a proxy that sends to it. Left out, the queue
 * name is the handler function's name. Call it at a module's top level, in a file listed under `receivers`.
 *
 * @example
 * ```ts
 * import { receiver } from "sqsd";
 *
 * export const resizeImage = receiver<{ imageId: number }>("thumbnails", { visibilityTimeoutSeconds: 120 }, async (message) => {
 *   await resize(message.body.imageId);
 * });
 *
 * await resizeImage({ imageId: 7 }); // sends
 * ```
 */
export const receiver: ReceiverFunction = api.receiver;

/**
 * Registers a queue without the proxy. Without a handler the queue is send-only: `send()` works, the daemon
 * does not consume it. This is django-sqs's `register()`.
 */
export const register: RegisterFunction = api.register;
