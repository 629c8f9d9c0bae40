import { ForwardingProxy, type Exchange } from "./forwarding-proxy.js";

/**
 * A pass-through HTTP proxy in front of an SQS server that counts requests per action and per queue, the way
 * the embedded fauxqs counts them itself: it gives a server that does not count (moto) the same
 * `requests`/`requestsByQueue` a test reads from fauxqs. Bodies pass unchanged and answers are streamed back, so
 * long polls and their timing are the server's own.
 */
export class CountingProxy extends ForwardingProxy {
  readonly requests = new Map<string, number>();
  readonly requestsByQueue = new Map<string, Map<string, number>>();

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static start(targetUrl: string): Promise<CountingProxy> {
    // The client's Host goes on to the server: the QueueUrls moto builds from it lead back through this proxy.
    return ForwardingProxy.listening(new CountingProxy(targetUrl));
  }

  protected override handle(exchange: Exchange): void {
    this.#count(exchange);
    exchange.forward();
  }

  #count(exchange: Exchange): void {
    const action = exchange.action ?? "other";
    this.requests.set(action, (this.requests.get(action) ?? 0) + 1);
    // Not a JSON-protocol body (moto's own API, a health probe): counted by action only.
    const queueUrl = exchange.json()?.["QueueUrl"];
    if (typeof queueUrl !== "string") return;
    const queue = queueUrl.slice(queueUrl.lastIndexOf("/") + 1);
    const counts = this.requestsByQueue.get(queue) ?? new Map<string, number>();
    this.requestsByQueue.set(queue, counts);
    counts.set(action, (counts.get(action) ?? 0) + 1);
  }
}
