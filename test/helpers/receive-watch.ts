import { ForwardingProxy, type Exchange } from "./forwarding-proxy.js";

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
export class ReceiveWatch extends ForwardingProxy {
  readonly #spans = new Map<string, ReceiveSpan[]>();

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static start(targetUrl: string): Promise<ReceiveWatch> {
    return ForwardingProxy.listening(new ReceiveWatch(targetUrl, { targetHost: true, keepAliveTimeoutMs: 60_000 }));
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

  protected override handle(exchange: Exchange): void {
    this.#watch(exchange);
    exchange.forward();
  }

  #watch(exchange: Exchange): void {
    const receive = receivedQueue(exchange);
    if (receive === undefined) return;
    const span: ReceiveSpan = { startMs: exchange.arrivedMs, endMs: undefined, maxMessages: receive.maxMessages };
    const spans = this.#spans.get(receive.queue) ?? [];
    spans.push(span);
    this.#spans.set(receive.queue, spans);
    // An answer that never completes (the client went away) still ends the span: the server no longer holds
    // a receive for this client once the connection is gone.
    exchange.onSettled(() => (span.endMs = performance.now()));
  }
}

/**
 * The queue a ReceiveMessage names (the last part of its QueueUrl) and the most messages it asks for, or
 * undefined for any other request.
 */
function receivedQueue(exchange: Exchange): { readonly queue: string; readonly maxMessages: number } | undefined {
  let queueUrl: unknown;
  let maxMessages: unknown;
  if (exchange.action === "ReceiveMessage") {
    const input = exchange.json();
    queueUrl = input?.["QueueUrl"];
    maxMessages = input?.["MaxNumberOfMessages"];
  } else if (exchange.action === undefined) {
    // The query protocol, which some clients still speak: Action and QueueUrl are form fields.
    const form = new URLSearchParams(exchange.body.toString("utf8"));
    if (form.get("Action") === "ReceiveMessage") queueUrl = form.get("QueueUrl") ?? undefined;
    maxMessages = Number(form.get("MaxNumberOfMessages") ?? 1);
  }
  if (typeof queueUrl !== "string") return undefined;
  return {
    queue: queueUrl.slice(queueUrl.lastIndexOf("/") + 1),
    maxMessages: typeof maxMessages === "number" ? maxMessages : 1,
  };
}
