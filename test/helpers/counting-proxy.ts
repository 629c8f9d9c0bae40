import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A pass-through HTTP proxy in front of an SQS server that counts requests per action and per queue, the way
 * the embedded fauxqs counts them itself: it gives a server that does not count (moto) the same
 * `requests`/`requestsByQueue` a test reads from fauxqs. Bodies pass unchanged and answers are streamed back, so
 * long polls and their timing are the server's own.
 */
export class CountingProxy {
  readonly requests = new Map<string, number>();
  readonly requestsByQueue = new Map<string, Map<string, number>>();
  readonly #server: Server;
  readonly #target: URL;
  // Keep-alive upstream: a request per socket would add a connect to each of the many small requests.
  readonly #agent = new Agent({ keepAlive: true });
  #stopping: Promise<void> | undefined;

  private constructor(server: Server, target: URL) {
    this.#server = server;
    this.#target = target;
  }

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static async start(targetUrl: string): Promise<CountingProxy> {
    const server = createServer();
    const proxy = new CountingProxy(server, new URL(targetUrl));
    server.on("request", (incoming: IncomingMessage, outgoing: ServerResponse) => proxy.#handle(incoming, outgoing));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The endpoint to give clients instead of the server's. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Stops listening and drops every connection, long polls included; memoized. */
  stop(): Promise<void> {
    this.#stopping ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
      this.#agent.destroy();
    });
    return this.#stopping;
  }

  #count(action: string, body: Buffer): void {
    this.requests.set(action, (this.requests.get(action) ?? 0) + 1);
    let queueUrl: unknown;
    try {
      queueUrl = (JSON.parse(body.toString("utf8")) as { QueueUrl?: unknown }).QueueUrl;
    } catch {
      // Not a JSON-protocol body (moto's own API, a health probe): counted by action only.
      return;
    }
    if (typeof queueUrl !== "string") return;
    const queue = queueUrl.slice(queueUrl.lastIndexOf("/") + 1);
    const counts = this.requestsByQueue.get(queue) ?? new Map<string, number>();
    this.requestsByQueue.set(queue, counts);
    counts.set(action, (counts.get(action) ?? 0) + 1);
  }

  #handle(incoming: IncomingMessage, outgoing: ServerResponse): void {
    const target = incoming.headers["x-amz-target"];
    const action = typeof target === "string" ? target.replace(/^AmazonSQS\./, "") : "other";
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      this.#count(action, body);
      const forwarded = request(
        new URL(incoming.url ?? "/", this.#target),
        { method: incoming.method, headers: incoming.headers, agent: this.#agent },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on("error", () => outgoing.destroy());
      // A client that gives up on a long poll closes its socket: the server's side goes with it.
      outgoing.on("close", () => forwarded.destroy());
      forwarded.end(body);
    });
  }
}
