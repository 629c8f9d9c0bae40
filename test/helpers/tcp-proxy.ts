import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A TCP proxy between sqsd and the SQS server, for network faults: `cut()` drops every open connection and
 * resets each new one until `restore()`, like a network that went away. It counts connection attempts, so a
 * test can tell a backoff from a tight retry loop.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #target: { host: string; port: number };
  #cut = false;
  /** Connections accepted so far, in total and while cut. */
  connections = 0;
  connectionsWhileCut = 0;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
  }

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static async start(targetUrl: string): Promise<TcpProxy> {
    const url = new URL(targetUrl);
    const server = createServer();
    const proxy = new TcpProxy(server, { host: url.hostname, port: Number(url.port) });
    server.on("connection", (client) => proxy.#accept(client));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The endpoint to give sqsd instead of the server's. */
  get endpoint(): string {
    const address = this.#server.address();
    return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  /** Drops every connection and resets new ones. */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /** Lets connections through again. */
  restore(): void {
    this.#cut = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.connections += 1;
    if (this.#cut) {
      this.connectionsWhileCut += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.#target.port, this.#target.host);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on("close", () => this.#sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  }
}
