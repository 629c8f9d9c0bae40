import { BroadcastChannel } from "node:worker_threads";
import { PoolRequestError } from "../pool-errors.js";
import { deserializeError, serializeError } from "./protocol.js";
import type {
  ChannelAddress,
  ChannelMessage,
  ChannelRequest,
  ChannelResponse,
  LifecycleMessage,
} from "./channel-messages.js";

/** Services by name, each a function signature, e.g. {@link SupervisorServices}. */
export type ServiceMap<T> = { [K in keyof T]: (...args: never[]) => unknown };

/** The arguments of a service. */
export type ServiceArgs<F> = F extends (...args: infer A) => unknown ? A : never;

/** What a service answers, once settled. */
export type ServiceResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/** An implementation of a service: it may answer at once or with a promise, and may throw. */
export type ServiceImplementation<F> = (...args: ServiceArgs<F>) => ServiceResult<F> | Promise<ServiceResult<F>>;

/** How an endpoint is set up. */
export interface ChannelEndpointOptions {
  /** The pool's BroadcastChannel name. */
  readonly channelName: string;
  /** Who this endpoint is: requests and responses for other addresses are ignored. */
  readonly address: ChannelAddress;
  /** Called with every one-way lifecycle message from the other parties. */
  readonly onLifecycle: (message: LifecycleMessage) => void;
  /** How long a request waits for its answer. @defaultValue `60000` */
  readonly requestTimeoutMs?: number;
  /**
   * Whether the open channel may keep this thread alive. Pool threads pass false: piscina keeps them alive,
   * and a destroyed pool must not leave one hanging on its channel. @defaultValue `true`
   */
  readonly keepsThreadAlive?: boolean;
}

interface Pending {
  readonly service: string;
  readonly to: ChannelAddress;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: PoolRequestError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One party's end of the pool's channel: typed requests to the services another party registered (with a
 * timeout, and rejected when either side closes), its own services for the others, and one-way lifecycle
 * messages. `Local` is what this party serves, `Remote` what it may ask for.
 *
 * @example
 * ```ts
 * const supervisor = new ChannelEndpoint<SupervisorServices, ThreadServices>({ channelName, address: "supervisor", onLifecycle });
 * supervisor.serve("extendVisibility", (messageId, seconds) => keeper.extend(messageId, seconds));
 * // in a pool thread:
 * const thread = new ChannelEndpoint<ThreadServices, SupervisorServices>({ channelName, address: threadId, onLifecycle });
 * const extended = await thread.request("supervisor", "extendVisibility", message.id, 60);
 * ```
 */
export class ChannelEndpoint<Local extends ServiceMap<Local>, Remote extends ServiceMap<Remote>> {
  readonly address: ChannelAddress;
  readonly #channel: BroadcastChannel;
  readonly #onLifecycle: (message: LifecycleMessage) => void;
  readonly #requestTimeoutMs: number;
  readonly #services = new Map<string, (...args: never[]) => unknown>();
  readonly #pending = new Map<string, Pending>();
  #lastRequestId = 0;
  #closed = false;

  constructor(options: ChannelEndpointOptions) {
    this.address = options.address;
    this.#onLifecycle = options.onLifecycle;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#channel = new BroadcastChannel(options.channelName);
    if (options.keepsThreadAlive === false) this.#channel.unref();
    this.#channel.onmessage = (event) => this.#receive((event as { data: ChannelMessage }).data);
  }

  /** Answers requests for `name` from now on; a later call for the same name replaces the implementation. */
  serve<N extends keyof Local & string>(name: N, implementation: ServiceImplementation<Local[N]>): void {
    this.#services.set(name, implementation);
  }

  /**
   * Asks the party at `to` for its service `name`. Rejects with a {@link PoolRequestError}: `failed` if the
   * service threw or is not registered there, `timeout` after `requestTimeoutMs`, `closed` if either side
   * closes first.
   */
  request<N extends keyof Remote & string>(
    to: ChannelAddress,
    name: N,
    ...args: ServiceArgs<Remote[N]>
  ): Promise<ServiceResult<Remote[N]>> {
    if (this.#closed)
      return Promise.reject(new PoolRequestError(name, "closed", "was not sent: the channel is closed"));
    const id = `${this.address}:${++this.#lastRequestId}`;
    return new Promise<ServiceResult<Remote[N]>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#reject(id, new PoolRequestError(name, "timeout", `got no answer within ${this.#requestTimeoutMs} ms`));
      }, this.#requestTimeoutMs);
      // The timer only bounds the wait; it must not keep a process alive that would otherwise exit.
      timer.unref();
      this.#pending.set(id, { service: name, to, resolve: resolve as (value: unknown) => void, reject, timer });
      const request: ChannelRequest = { type: "request", id, from: this.address, to, name, args };
      try {
        this.#channel.postMessage(request);
      } catch (error) {
        // Arguments that cannot be cloned: the request never left.
        this.#reject(id, new PoolRequestError(name, "failed", "could not be sent", error));
      }
    });
  }

  /** Sends a one-way lifecycle message to every other party. Does nothing once closed. */
  post(message: LifecycleMessage): void {
    if (!this.#closed) this.#channel.postMessage(message);
  }

  /**
   * Leaves the channel: this side's pending requests reject (`closed`), the other parties stop waiting for
   * answers from it, and requests still being served here get no answer. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const closed: ChannelMessage = { type: "closed", from: this.address };
    this.#channel.postMessage(closed);
    this.#channel.close();
    for (const id of [...this.#pending.keys()]) {
      const service = this.#pending.get(id)?.service ?? "";
      this.#reject(id, new PoolRequestError(service, "closed", "got no answer: the channel closed"));
    }
  }

  #receive(message: ChannelMessage): void {
    switch (message.type) {
      case "request":
        if (message.to === this.address) void this.#answer(message);
        return;
      case "response":
        if (message.to === this.address) this.#settle(message);
        return;
      case "closed":
        for (const [id, pending] of [...this.#pending]) {
          if (pending.to !== message.from) continue;
          this.#reject(
            id,
            new PoolRequestError(
              pending.service,
              "closed",
              `got no answer: ${describeAddress(message.from)} left the channel`,
            ),
          );
        }
        return;
      default:
        this.#onLifecycle(message);
    }
  }

  async #answer(request: ChannelRequest): Promise<void> {
    let response: ChannelResponse;
    try {
      const service = this.#services.get(request.name);
      if (!service) throw new Error(`${describeAddress(this.address)} serves no "${request.name}"`);
      const value = await (service as (...args: readonly unknown[]) => unknown)(...request.args);
      response = { type: "response", id: request.id, to: request.from, ok: true, value };
    } catch (error) {
      response = { type: "response", id: request.id, to: request.from, ok: false, error: serializeError(error) };
    }
    // Closed meanwhile: the requester was told when this side left.
    if (this.#closed) return;
    try {
      this.#channel.postMessage(response);
    } catch (error) {
      // A result that cannot be cloned still gets an answer, so the requester does not wait for its timeout.
      const failed: ChannelResponse = {
        type: "response",
        id: request.id,
        to: request.from,
        ok: false,
        error: serializeError(error),
      };
      this.#channel.postMessage(failed);
    }
  }

  #settle(response: ChannelResponse): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return; // Timed out already.
    this.#pending.delete(response.id);
    clearTimeout(pending.timer);
    if (response.ok) pending.resolve(response.value);
    else {
      const cause = deserializeError(response.error);
      pending.reject(new PoolRequestError(pending.service, "failed", `failed: ${cause.name}: ${cause.message}`, cause));
    }
  }

  #reject(id: string, error: PoolRequestError): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(error);
  }
}

/** An address as logs and errors name it: `the supervisor`, `pool thread 3`. */
export function describeAddress(address: ChannelAddress): string {
  return address === "supervisor" ? "the supervisor" : `pool thread ${address}`;
}
