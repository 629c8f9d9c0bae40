import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

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
export class RecordingProxy {
  readonly requests: RecordedRequest[] = [];
  readonly responses: RecordedResponse[] = [];
  /** Returns a response to send instead of forwarding, or undefined to forward. @defaultValue forward all */
  answer: (request: RecordedRequest) => CannedResponse | undefined = () => undefined;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static async start(targetUrl: string): Promise<RecordingProxy> {
    const target = new URL(targetUrl);
    const server = createServer();
    const proxy = new RecordingProxy(server);
    server.on("request", (incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const targetHeader = incoming.headers["x-amz-target"];
        const action = typeof targetHeader === "string" ? targetHeader.replace(/^AmazonSQS\./, "") : "";
        const credential = /Credential=([^/]+)\//.exec(incoming.headers.authorization ?? "");
        const recorded = { action, headers: incoming.headers, body, accessKeyId: credential?.[1] };
        proxy.requests.push(recorded);
        const canned = proxy.answer(recorded);
        if (canned) {
          outgoing.writeHead(canned.status, canned.headers).end(canned.body);
          return;
        }
        const forwarded = request(
          new URL(incoming.url ?? "/", target),
          { method: incoming.method, headers: { ...incoming.headers, host: target.host } },
          (answer) => {
            const answerChunks: Buffer[] = [];
            answer.on("data", (chunk: Buffer) => answerChunks.push(chunk));
            answer.on("end", () => {
              const answerBody = Buffer.concat(answerChunks).toString("utf8");
              const headers: Record<string, string> = {};
              for (const [name, value] of Object.entries(answer.headers)) {
                if (typeof value === "string" && name !== "transfer-encoding" && name !== "connection") {
                  headers[name] = value;
                }
              }
              proxy.responses.push({ action, status: answer.statusCode ?? 502, headers, body: answerBody });
              outgoing.writeHead(answer.statusCode ?? 502, headers).end(answerBody);
            });
          },
        );
        forwarded.on("error", () => outgoing.destroy());
        forwarded.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The endpoint to give clients instead of the server's. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Requests recorded for `action`. */
  sent(action: string): RecordedRequest[] {
    return this.requests.filter((recorded) => recorded.action === action);
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
