import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { collect, ForwardingProxy, type Exchange } from "./forwarding-proxy.js";

/** One request as it reached the proxy. */
export interface RecordedRequest {
  /** The SQS action, from `X-Amz-Target` (`ReceiveMessage`, ...). */
  readonly action: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The access key id the request was signed with, from its `Authorization` header. */
  readonly accessKeyId: string | undefined;
}

/** A response the proxy sends itself instead of forwarding the request. */
export interface CannedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** One response as the server sent it. */
export interface RecordedResponse extends CannedResponse {
  readonly action: string;
}

/**
 * An HTTP proxy in front of an SQS server that records what each client sends (headers, body, the signing
 * key) and what the server answers, and can answer a request itself (`answer`): a throttling error as SQS
 * sends it, or a recorded response replayed so that two clients parse the very same bytes.
 */
export class RecordingProxy extends ForwardingProxy {
  readonly requests: RecordedRequest[] = [];
  readonly responses: RecordedResponse[] = [];
  /** Returns a response to send instead of forwarding, or undefined to forward. @defaultValue forward all */
  answer: (request: RecordedRequest) => CannedResponse | undefined = () => undefined;

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static start(targetUrl: string): Promise<RecordingProxy> {
    return ForwardingProxy.listening(new RecordingProxy(targetUrl, { targetHost: true }));
  }

  /** Requests recorded for `action`. */
  sent(action: string): RecordedRequest[] {
    return this.requests.filter((recorded) => recorded.action === action);
  }

  protected override handle(exchange: Exchange): void {
    const { headers } = exchange.incoming;
    const credential = /Credential=([^/]+)\//.exec(headers.authorization ?? "");
    const action = exchange.action ?? "";
    const recorded = { action, headers, body: exchange.body.toString("utf8"), accessKeyId: credential?.[1] };
    this.requests.push(recorded);
    const canned = this.answer(recorded);
    if (canned) {
      exchange.reply(canned.status, canned.headers, canned.body);
      return;
    }
    // The whole answer is read before it is passed on, so the recorded response is the one the client parses.
    exchange.forward((answer: IncomingMessage) => {
      answer.once("error", () => exchange.cut());
      collect(answer, (body) => {
        const response = {
          action,
          status: answer.statusCode ?? 502,
          headers: replayable(answer),
          body: body.toString("utf8"),
        };
        this.responses.push(response);
        exchange.reply(response.status, response.headers, response.body);
      });
    });
  }
}

/** The answer's headers, less those about its framing on this connection: a replay frames its own. */
function replayable(answer: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (typeof value === "string" && name !== "transfer-encoding" && name !== "connection") headers[name] = value;
  }
  return headers;
}
