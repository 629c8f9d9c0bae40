/**
 * The messages on the pool's BroadcastChannel (src/pool/channel.ts), which the supervisor and every pool thread
 * share beside piscina's own ports: the threads' lifecycle, aborts, and typed requests with their answers.
 */
import type { SerializedError } from "./protocol.js";

/**
 * One-way messages on the pool's channel. `ready`, `broken` and `tornDown` go from a thread to the supervisor;
 * `abort` and `teardown` from the supervisor to every thread (a `teardown` may name one).
 */
export type LifecycleMessage =
  /** The thread loaded the receiver modules and takes tasks. */
  | { readonly type: "ready"; readonly threadId: number }
  /** The thread could not load the receiver modules: it refuses every task it is given. */
  | { readonly type: "broken"; readonly threadId: number; readonly error: SerializedError }
  /** Abort the handler signal of the run `runId`, on whichever thread has it; one not started never starts. */
  | { readonly type: "abort"; readonly runId: number; readonly reason: string }
  /**
   * Run the teardown hooks: every thread when the pool closes, or the one named by `threadId` before the pool
   * ends it for being idle (it is given no task meanwhile).
   */
  | { readonly type: "teardown"; readonly threadId?: number }
  /** Supervisor → one thread: piscina counts it as started; it may run its first task (see ADMISSION). */
  | { readonly type: "admitted"; readonly threadId: number }
  | { readonly type: "tornDown"; readonly threadId: number; readonly errors: readonly SerializedError[] };

/** A party on the pool's channel: the supervisor, or one pool thread by its thread id. */
export type ChannelAddress = "supervisor" | number;

/**
 * What the supervisor answers for pool threads, by request name: the arguments and the result. A service may
 * also fail; the requester then gets a `PoolRequestError` carrying the serialized error.
 */
export interface SupervisorServices {
  /**
   * A handler called `message.extendVisibility(seconds)` on the delivery `deliveryId`; true if SQS accepted
   * the new visibility timeout.
   */
  extendVisibility(deliveryId: number, seconds: number): boolean;
}

/**
 * What a pool thread answers for the supervisor. None yet: aborts and teardown are broadcasts that every
 * thread hears, which a request to one address cannot express.
 */
export type ThreadServices = Record<never, never>;

/** A request to one party's service. `id` is unique among the requester's pending requests. */
export interface ChannelRequest {
  readonly type: "request";
  readonly id: string;
  readonly from: ChannelAddress;
  readonly to: ChannelAddress;
  readonly name: string;
  readonly args: readonly unknown[];
}

/** The answer to a {@link ChannelRequest}, addressed back to the requester. */
export type ChannelResponse = {
  readonly type: "response";
  readonly id: string;
  readonly to: ChannelAddress;
} & ({ readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SerializedError });

/** A party leaves the channel: its peers stop waiting for its answers. */
export interface ChannelClosed {
  readonly type: "closed";
  readonly from: ChannelAddress;
}

/**
 * Everything on the pool's BroadcastChannel, which every thread and the supervisor share (piscina owns each
 * thread's parentPort). One channel rather than a MessageChannel per task: control messages are rare, and
 * creating and transferring a port for every task measurably cut throughput. Every party hears every message;
 * requests and responses name the party they are for, and the others ignore them.
 */
export type ChannelMessage = LifecycleMessage | ChannelRequest | ChannelResponse | ChannelClosed;
