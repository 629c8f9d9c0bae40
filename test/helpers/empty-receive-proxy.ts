import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy between sqsd and the SQS server that, while `emptyReceives` is on, answers every
 * ReceiveMessage itself with no messages after the request's long-poll wait, as a receive that finds the
 * queue empty would, while every other request (status reads, deletes) reaches the server. The queue's
 * messages stay visible in SQS, and polling never goes quiet: the fault only the starved-queue check sees.
 */
export class EmptyReceiveProxy {
  readonly #server: Server;
  readonly #target: URL;
  /** Answer receives with nothing instead of forwarding them. */
  emptyReceives = false;
  /** Receives answered with nothing so far. */
  emptied = 0;

  private constructor(server: Server, target: URL) {
    this.#server = server;
    this.#target = target;
  }

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static async start(targetUrl: string): Promise<EmptyReceiveProxy> {
    const server = createServer();
    const proxy = new EmptyReceiveProxy(server, new URL(targetUrl));
    server.on(
      "request",
      (incoming: IncomingMessage, outgoing: ServerResponse) => void proxy.#handle(incoming, outgoing),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The endpoint to give sqsd instead of the server's. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (this.emptyReceives && incoming.headers["x-amz-target"] === "AmazonSQS.ReceiveMessage") {
      const { WaitTimeSeconds = 0 } = JSON.parse(body.toString("utf8")) as { WaitTimeSeconds?: number };
      const timer = setTimeout(() => {
        this.emptied += 1;
        outgoing.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
      }, WaitTimeSeconds * 1000);
      outgoing.on("close", () => clearTimeout(timer));
      return;
    }
    const forwarded = request(
      new URL(incoming.url ?? "/", this.#target),
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    forwarded.end(body);
  }
}
