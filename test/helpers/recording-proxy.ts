import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy in front of the SQS server that forwards every request unchanged and notes which SQS API it
 * called (the `X-Amz-Target` header of SQS's JSON protocol), so that a test can list the calls a command made.
 */
export class RecordingProxy {
  readonly #server: Server;
  readonly #target: URL;
  #calls = new Set<string>();

  private constructor(server: Server, target: URL) {
    this.#server = server;
    this.#target = target;
  }

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static async start(targetUrl: string): Promise<RecordingProxy> {
    const server = createServer();
    const proxy = new RecordingProxy(server, new URL(targetUrl));
    server.on("request", (incoming: IncomingMessage, outgoing: ServerResponse) => proxy.#forward(incoming, outgoing));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The endpoint to give sqsd instead of the server's. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The SQS APIs called since the last take (`ReceiveMessage`, `DeleteMessageBatch`, ...), sorted. */
  take(): string[] {
    const calls = [...this.#calls].sort();
    this.#calls = new Set();
    return calls;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #forward(incoming: IncomingMessage, outgoing: ServerResponse): void {
    const target = incoming.headers["x-amz-target"];
    if (typeof target === "string") this.#calls.add(target.replace(/^AmazonSQS\./, ""));
    const forwarded = request(
      new URL(incoming.url ?? "/", this.#target),
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    incoming.pipe(forwarded);
  }
}
