import { collect, ForwardingProxy, type Exchange } from "./forwarding-proxy.js";

/** One ReceiveMessage as the server answered it. */
export interface Delivery {
  readonly queue: string;
  /** `Date.now()` when the request reached the proxy. */
  readonly askedAt: number;
  /** `Date.now()` when the server's answer reached the proxy: when the messages left SQS. */
  readonly answeredAt: number;
  readonly maxMessages: number;
  /** Messages the answer carried. */
  readonly count: number;
}

/**
 * An HTTP proxy in front of an SQS server that logs every ReceiveMessage answer with the number of messages it
 * carried and when: what a consumer received, counted at the server's side, so a rate limit is checked where
 * it matters (not by what the daemon says it did). Times are `Date.now()`, comparable with the daemon's logs.
 */
export class DeliveryLog extends ForwardingProxy {
  readonly deliveries: Delivery[] = [];

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static start(targetUrl: string): Promise<DeliveryLog> {
    return ForwardingProxy.listening(new DeliveryLog(targetUrl, { targetHost: true, keepAliveTimeoutMs: 60_000 }));
  }

  /** Answers for `queue` that carried messages, oldest first. */
  received(queue: string): Delivery[] {
    return this.deliveries.filter((delivery) => delivery.queue === queue && delivery.count > 0);
  }

  /** Messages received from `queue`. */
  count(queue: string): number {
    return this.received(queue).reduce((sum, delivery) => sum + delivery.count, 0);
  }

  protected override handle(exchange: Exchange): void {
    const input = exchange.action === "ReceiveMessage" ? exchange.json() : undefined;
    const queueUrl = input?.["QueueUrl"];
    if (typeof queueUrl !== "string") {
      exchange.forward();
      return;
    }
    const askedAt = Date.now();
    const maxMessages = typeof input?.["MaxNumberOfMessages"] === "number" ? input["MaxNumberOfMessages"] : 1;
    exchange.forward((answer) => {
      answer.once("error", () => exchange.cut());
      collect(answer, (body) => {
        const answeredAt = Date.now();
        let count = 0;
        try {
          const messages = (JSON.parse(body.toString("utf8")) as { Messages?: unknown[] }).Messages;
          count = Array.isArray(messages) ? messages.length : 0;
        } catch {
          // Not JSON: an error page; it carried no messages.
        }
        const queue = queueUrl.slice(queueUrl.lastIndexOf("/") + 1);
        this.deliveries.push({ queue, askedAt, answeredAt, maxMessages, count });
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (typeof value === "string" && name !== "transfer-encoding" && name !== "connection") headers[name] = value;
        }
        exchange.reply(answer.statusCode ?? 502, headers, body.toString("utf8"));
      });
    });
  }
}

/**
 * The largest excess of messages over `perSecond × window + burst`, over every window from `since` or from one
 * answer to another: at most 0 when the limit held.
 */
export function worstExcess(
  deliveries: readonly Delivery[],
  perSecond: number,
  burst: number,
  since: number,
): { readonly excess: number; readonly from: number; readonly to: number; readonly count: number } {
  const sorted = [...deliveries].sort((a, b) => a.answeredAt - b.answeredAt);
  const starts = [since, ...sorted.map((delivery) => delivery.answeredAt)];
  let worst = { excess: Number.NEGATIVE_INFINITY, from: since, to: since, count: 0 };
  for (const from of starts) {
    let count = 0;
    for (const delivery of sorted) {
      if (delivery.answeredAt < from) continue;
      count += delivery.count;
      const excess = count - (perSecond * (delivery.answeredAt - from)) / 1000 - burst;
      if (excess > worst.excess) worst = { excess, from, to: delivery.answeredAt, count };
    }
  }
  return worst;
}
