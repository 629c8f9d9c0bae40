/**
 * The public API as a pool thread resolves "sqsd" (the package's `sqsd-pool-thread` export condition, which
 * workers/thread-conditions.ts turns on in every pool thread): the same exports as src/index.ts, with
 * `receiver()` and `register()` that take options the supervisor has already checked, so that a thread does not
 * load zod. Types come from src/index.ts.
 */
export * from "./public-api.js";
export { receiver, register } from "./registry/thread-receiver.js";
export type { ReceiverFunction, RegisterFunction } from "./registry/receiver-api.js";
