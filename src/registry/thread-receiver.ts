/**
 * `receiver()` and `register()` as a pool thread runs them: the options are taken as they are. The supervisor
 * imported the same receiver modules before any thread started and checked every call (receiver.ts); a thread
 * that repeated the check would load zod (about 9 MiB per thread) for nothing. Reached through the package's
 * `sqsd-pool-thread` export condition (src/thread-api.ts).
 */
import { receiverApi, type ReceiverFunction, type RegisterFunction } from "./receiver-api.js";

const api = receiverApi((options) => options);

/** `receiver()` in a pool thread; see src/registry/receiver.ts for its documentation. */
export const receiver: ReceiverFunction = api.receiver;

/** `register()` in a pool thread; see src/registry/receiver.ts for its documentation. */
export const register: RegisterFunction = api.register;
