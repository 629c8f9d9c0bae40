/**
 * sqsd's public API: what receiver modules, config files and producers import.
 * The daemon's internals (supervisor, pool, CLI) are deliberately not exported.
 */
export * from "./public-api.js";
export { receiver, register } from "./registry/receiver.js";
export type { ReceiverFunction, RegisterFunction } from "./registry/receiver.js";
