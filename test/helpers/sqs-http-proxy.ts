import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy in front of the SQS server, for tests that need to see or bend what sqsd asks of SQS. It
 * notes which SQS API each request called (the `X-Amz-Target` header of SQS's JSON protocol), so a test can
 * list the calls a command made; and while `emptyReceives` is on it answers every ReceiveMessage itself with
 * no messages after the request's long-poll wait, as a receive that finds the queue empty would, while every
 * other request (status reads, deletes) reaches the server: the queue's messages stay visible and polling
 * never goes quiet, the fault only the starved-queue check sees. While `holdSends` is on it holds sends before
 * they reach the server, to test what an abort of a send under way prevents.
 */
export class SqsHttpProxy {
  readonly #server: Server;
  readonly #target: URL;
  #calls = new Set<string>();
  /** Answer receives with nothing instead of forwarding them. */
  emptyReceives = false;
  /**
   * Hold the server's answers to receives instead of passing them on, until {@link SqsHttpProxy.releaseHeld}:
   * an answer "in transit", for tests of what happens meanwhile.
   */
  holdReceiveAnswers = false;
  readonly #held: (() => void)[] = [];
  /**
   * Hold sends (SendMessage, SendMessageBatch) before they reach the server, until
   * {@link SqsHttpProxy.releaseSends}: a request still in transit. A held send whose client hung up meanwhile
   * (it aborted the request) is dropped at release, as a request that never arrived.
   */
  holdSends = false;
  readonly #heldSends: (() => void)[] = [];
  /** Held sends whose client hung up while they were held. */
  sendsAbandoned = 0;
  /** Held sends dropped at release because their client had hung up. */
  sendsDropped = 0;
  /** Receives answered with nothing so far. */
  emptied = 0;

  private constructor(server: Server, target: URL) {
    this.#server = server;
    this.#target = target;
  }

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static async start(targetUrl: string): Promise<SqsHttpProxy> {
    const server = createServer();
    const proxy = new SqsHttpProxy(server, new URL(targetUrl));
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

  /** The SQS APIs called since the last take (`ReceiveMessage`, `DeleteMessageBatch`, ...), sorted. */
  take(): string[] {
    const calls = [...this.#calls].sort();
    this.#calls = new Set();
    return calls;
  }

  /** Answers to receives held so far and not yet released. */
  get held(): number {
    return this.#held.length;
  }

  /** Sends held so far and not yet released. */
  get heldSends(): number {
    return this.#heldSends.length;
  }

  /** Lets every held send go on to the server, but those whose client hung up. */
  releaseSends(): void {
    for (const pass of this.#heldSends.splice(0)) pass();
  }

  /** Passes on every held answer. */
  releaseHeld(): void {
    for (const pass of this.#held.splice(0)) pass();
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const target = incoming.headers["x-amz-target"];
    if (typeof target === "string") this.#calls.add(target.replace(/^AmazonSQS\./, ""));
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (this.emptyReceives && target === "AmazonSQS.ReceiveMessage") {
      const { WaitTimeSeconds = 0 } = JSON.parse(body.toString("utf8")) as { WaitTimeSeconds?: number };
      const timer = setTimeout(() => {
        this.emptied += 1;
        outgoing.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
      }, WaitTimeSeconds * 1000);
      outgoing.on("close", () => clearTimeout(timer));
      return;
    }
    if (this.holdSends && (target === "AmazonSQS.SendMessage" || target === "AmazonSQS.SendMessageBatch")) {
      let clientGone = false;
      outgoing.on("close", () => {
        if (outgoing.writableFinished) return;
        clientGone = true;
        this.sendsAbandoned += 1;
      });
      this.#heldSends.push(() => {
        if (clientGone) this.sendsDropped += 1;
        else this.#forward(incoming, outgoing, target, body);
      });
      return;
    }
    this.#forward(incoming, outgoing, target, body);
  }

  #forward(incoming: IncomingMessage, outgoing: ServerResponse, target: unknown, body: Buffer): void {
    const forwarded = request(
      new URL(incoming.url ?? "/", this.#target),
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        const pass = (): void => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        };
        if (this.holdReceiveAnswers && target === "AmazonSQS.ReceiveMessage") this.#held.push(pass);
        else pass();
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    forwarded.end(body);
  }
}
