import {
  Agent,
  createServer,
  request,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";

/** What {@link ForwardingProxy} takes besides its target. */
export interface ForwardingOptions {
  /**
   * Send the target's host in the `Host` header instead of the client's.
   * @defaultValue false: the server sees the proxy's host, so the URLs it builds from it (moto's QueueUrl) lead
   * back through the proxy
   */
  readonly targetHost?: boolean;
  /** How long an idle client connection stays open. @defaultValue Node's own (5 s) */
  readonly keepAliveTimeoutMs?: number;
}

/** Where and how an exchange forwards. */
interface Upstream {
  readonly target: URL;
  readonly agent: Agent;
  readonly targetHost: boolean;
}

/**
 * One request a {@link ForwardingProxy} took in, with its whole body, and what its handler may do with it: send
 * it on to the server and pass the answer back (now or later), or answer it itself. A client that hangs up
 * before its answer is written takes the forwarded request down with it, as it would without a proxy (an aborted
 * long poll ends at the server too); anything done for it afterwards is a no-op.
 */
export class Exchange {
  /** `performance.now()` of this process when the request arrived, before its body had been read. */
  readonly arrivedMs = performance.now();
  /** The SQS action, from `X-Amz-Target` (`ReceiveMessage`, ...); undefined without one (the query protocol). */
  readonly action: string | undefined;
  readonly incoming: IncomingMessage;
  readonly #outgoing: ServerResponse;
  readonly #upstream: Upstream;
  #body: Buffer = Buffer.alloc(0);
  #forwarded: ClientRequest | undefined;
  #clientGone = false;

  /** Made by {@link ForwardingProxy} as a request arrives: reads its body, then gives the exchange to `handler`. */
  constructor(
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    upstream: Upstream,
    handler: (exchange: Exchange) => void,
  ) {
    this.incoming = incoming;
    this.#outgoing = outgoing;
    this.#upstream = upstream;
    const target = incoming.headers["x-amz-target"];
    this.action = typeof target === "string" ? target.replace(/^AmazonSQS\./, "") : undefined;
    // Watched from arrival, so a hang-up is known even when it races the end of the body.
    this.onHangUp(() => this.#forwarded?.destroy());
    collect(incoming, (body) => {
      this.#body = body;
      handler(this);
    });
  }

  /** The request's body as the client sent it. */
  get body(): Buffer {
    return this.#body;
  }

  /** Whether the client hung up before its answer had been written. */
  get clientGone(): boolean {
    return this.#clientGone;
  }

  /** The body parsed as JSON (SQS's JSON protocol), or undefined when it is not JSON. */
  json(): Record<string, unknown> | undefined {
    try {
      const parsed: unknown = JSON.parse(this.#body.toString("utf8"));
      return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      // Not a JSON-protocol body (the query protocol, moto's own API, a health probe).
      return undefined;
    }
  }

  /** Calls `listener` once, when the client hangs up before its answer has been written. */
  onHangUp(listener: () => void): void {
    this.#outgoing.once("close", () => {
      if (this.#outgoing.writableFinished) return;
      this.#clientGone = true;
      listener();
    });
  }

  /** Calls `listener` once, when the answer has been written back or the client has hung up. */
  onSettled(listener: () => void): void {
    let settled = false;
    const once = (): void => {
      if (settled) return;
      settled = true;
      listener();
    };
    this.#outgoing.once("finish", once);
    this.#outgoing.once("close", once);
  }

  /**
   * Sends the request on to the server. Its answer goes to `onAnswer`, which may pass it on ({@link Exchange.pass})
   * at once or later, or read it and {@link Exchange.reply}; by default it is streamed straight back. A failed
   * forward drops the client's connection, as a server that went away would.
   */
  forward(onAnswer: (answer: IncomingMessage) => void = (answer) => this.pass(answer)): void {
    if (this.#clientGone || this.#forwarded !== undefined) return;
    const { target, agent, targetHost } = this.#upstream;
    const headers = targetHost ? { ...this.incoming.headers, host: target.host } : this.incoming.headers;
    const forwarded = request(new URL(this.incoming.url ?? "/", target), {
      method: this.incoming.method,
      headers,
      agent,
    });
    forwarded.on("response", onAnswer);
    forwarded.on("error", () => this.cut());
    this.#forwarded = forwarded;
    forwarded.end(this.#body);
  }

  /** Streams the server's `answer` back to the client as it comes, status and headers unchanged. */
  pass(answer: IncomingMessage): void {
    if (this.#clientGone) return;
    // An answer the server breaks off breaks off the client's too, rather than leave it waiting.
    answer.once("error", () => this.cut());
    this.#outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(this.#outgoing);
  }

  /** Drops the client's connection without an answer, as a server or network that went away would. */
  cut(): void {
    this.#outgoing.destroy();
  }

  /** Answers the client itself, with this instead of the server's answer. */
  reply(status: number, headers: OutgoingHttpHeaders, body: string): void {
    if (this.#clientGone) return;
    this.#outgoing.writeHead(status, headers).end(body);
  }
}

/**
 * The forwarding that every HTTP test proxy in front of an SQS server shares: a server on a free loopback port
 * that reads each request's body and gives it, as an {@link Exchange}, to the subclass's
 * {@link ForwardingProxy.handle}, which forwards it, answers it itself, or holds it for later. The server's
 * answers are streamed back unless the handler takes them, so long polls and their timing stay the server's own.
 * A subclass's `start` is `ForwardingProxy.listening(new Subclass(targetUrl))`.
 */
export abstract class ForwardingProxy {
  readonly #server: Server;
  readonly #upstream: Upstream;
  #stopping: Promise<void> | undefined;

  /** A proxy in front of `targetUrl`, not yet listening. */
  protected constructor(targetUrl: string, options: ForwardingOptions = {}) {
    this.#server =
      options.keepAliveTimeoutMs === undefined
        ? createServer()
        : createServer({ keepAliveTimeout: options.keepAliveTimeoutMs });
    this.#upstream = {
      target: new URL(targetUrl),
      // Keep-alive upstream, with no socket cap: a long poll holds its socket for up to 20 s, and a connect per
      // request would add to each of the many small ones.
      agent: new Agent({ keepAlive: true, maxSockets: Infinity }),
      targetHost: options.targetHost ?? false,
    };
    this.#server.on("request", (incoming: IncomingMessage, outgoing: ServerResponse) => {
      new Exchange(incoming, outgoing, this.#upstream, (exchange) => this.handle(exchange));
    });
  }

  /** Starts `proxy` listening on a free loopback port, and returns it. */
  protected static async listening<P extends ForwardingProxy>(proxy: P): Promise<P> {
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /**
   * Decides what becomes of one request, its body read: {@link Exchange.forward}, {@link Exchange.reply}, or
   * either later (a held request).
   */
  protected abstract handle(exchange: Exchange): void;

  /** The endpoint to give clients instead of the server's. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Stops listening and drops every connection, long polls and held requests included; memoized. */
  stop(): Promise<void> {
    this.#stopping ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      // Dropping the clients' connections takes their forwarded requests down with them (see Exchange).
      this.#server.closeAllConnections();
      this.#upstream.agent.destroy();
    });
    return this.#stopping;
  }
}

/** Reads `stream` to its end and gives `done` what it held. */
export function collect(stream: Readable, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  stream.on("end", () => done(Buffer.concat(chunks)));
}
