import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One ReceiveMessage as the proxy saw it: when the request arrived and when its answer had gone back. */
export interface ReceiveSpan {
  /** `performance.now()` of this process when the request arrived. */
  readonly startMs: number;
  /** When the answer had been written back to the client; undefined while the receive is in flight. */
  endMs: number | undefined;
  /** The MaxNumberOfMessages it asked for (1 when left out, as SQS reads it). */
  readonly maxMessages: number;
}

/**
 * An HTTP proxy in front of an SQS server that watches every `ReceiveMessage` from the server's side: which
 * queue it named, when it arrived and when its answer went back. That is what "a queue has a receive in
 * flight" means to SQS, so a test or the bench can read how long a queue went without one, whatever the
 * consumer in front believes. Everything is forwarded unchanged and answers are streamed through, so the proxy
 * adds one local hop and no buffering.
 */
export class ReceiveWatch {
  readonly #server: Server;
  readonly #target: URL;
  readonly #spans = new Map<string, ReceiveSpan[]>();
  // A long poll holds a socket for up to 20 s: one per queue and consumer, so no socket cap.
  readonly #agent = new Agent({ keepAlive: true, maxSockets: Infinity });

  private constructor(server: Server, target: URL) {
    this.#server = server;
    this.#target = target;
  }

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static async start(targetUrl: string): Promise<ReceiveWatch> {
    const server = createServer({ keepAliveTimeout: 60_000 });
    const watch = new ReceiveWatch(server, new URL(targetUrl));
    server.on("request", (incoming: IncomingMessage, outgoing: ServerResponse) => watch.#forward(incoming, outgoing));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return watch;
  }

  /** The endpoint to give consumers instead of the server's. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Every receive seen for the queue named `queue` (the last part of its URL), oldest first. */
  receives(queue: string): readonly ReceiveSpan[] {
    return this.#spans.get(queue) ?? [];
  }

  /** Receives for `queue` in flight now. */
  inFlight(queue: string): number {
    return this.receives(queue).filter((span) => span.endMs === undefined).length;
  }

  /**
   * The longest stretch within `[fromMs, toMs]` (`performance.now()` of this process) during which `queue` had
   * no receive in flight, and when it began: the gaps between the union of its receive spans.
   */
  longestStretchWithout(queue: string, fromMs: number, toMs: number): { readonly ms: number; readonly atMs: number } {
    const spans = [...this.receives(queue)].sort((a, b) => a.startMs - b.startMs);
    let longest = { ms: 0, atMs: fromMs };
    // Walks the spans in order of arrival, keeping the end of the union so far: a gap is a start after it.
    let coveredUntil = fromMs;
    for (const span of spans) {
      const end = span.endMs ?? Infinity;
      if (end <= fromMs) continue;
      if (span.startMs >= toMs) break;
      if (span.startMs > coveredUntil && span.startMs - coveredUntil > longest.ms) {
        longest = { ms: span.startMs - coveredUntil, atMs: coveredUntil };
      }
      coveredUntil = Math.max(coveredUntil, end);
    }
    if (coveredUntil < toMs && toMs - coveredUntil > longest.ms)
      longest = { ms: toMs - coveredUntil, atMs: coveredUntil };
    return longest;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#agent.destroy();
  }

  #forward(incoming: IncomingMessage, outgoing: ServerResponse): void {
    const startMs = performance.now();
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      const receive = receivedQueue(incoming, body);
      let span: ReceiveSpan | undefined;
      if (receive !== undefined) {
        const { queue, maxMessages } = receive;
        span = { startMs, endMs: undefined, maxMessages };
        const spans = this.#spans.get(queue) ?? [];
        spans.push(span);
        this.#spans.set(queue, spans);
      }
      // An answer that never completes (the client went away) still ends the span: the server no longer holds
      // a receive for this client once the connection is gone.
      const end = (): void => {
        if (span !== undefined && span.endMs === undefined) span.endMs = performance.now();
      };
      outgoing.once("finish", end);
      outgoing.once("close", end);
      const forwarded = request(
        new URL(incoming.url ?? "/", this.#target),
        { method: incoming.method, headers: { ...incoming.headers, host: this.#target.host }, agent: this.#agent },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on("error", () => outgoing.destroy());
      // A client that gives up on a receive (an aborted long poll) ends it at the server too, as without a proxy.
      outgoing.once("close", () => {
        if (!outgoing.writableFinished) forwarded.destroy();
      });
      forwarded.end(body);
    });
  }
}

/**
 * The queue a ReceiveMessage names (the last part of its QueueUrl) and the most messages it asks for, or
 * undefined for any other request.
 */
function receivedQueue(
  incoming: IncomingMessage,
  body: Buffer,
): { readonly queue: string; readonly maxMessages: number } | undefined {
  const target = incoming.headers["x-amz-target"];
  let queueUrl: string | undefined;
  let maxMessages: number | undefined;
  if (target === "AmazonSQS.ReceiveMessage") {
    const input = JSON.parse(body.toString("utf8")) as { QueueUrl?: string; MaxNumberOfMessages?: number };
    queueUrl = input.QueueUrl;
    maxMessages = input.MaxNumberOfMessages;
  } else if (target === undefined) {
    // The query protocol, which some clients still speak: Action and QueueUrl are form fields.
    const form = new URLSearchParams(body.toString("utf8"));
    if (form.get("Action") === "ReceiveMessage") queueUrl = form.get("QueueUrl") ?? undefined;
    maxMessages = Number(form.get("MaxNumberOfMessages") ?? 1);
  }
  if (queueUrl === undefined) return undefined;
  return { queue: queueUrl.slice(queueUrl.lastIndexOf("/") + 1), maxMessages: maxMessages ?? 1 };
}
