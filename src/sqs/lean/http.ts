import { request as httpRequest, type Agent, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest, type Agent as HttpsAgent } from "node:https";

/** One response, read whole (SQS's JSON answers are small: at most ten 1 MiB messages). */
export interface WireResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Where and how one request goes. */
export interface WireRequest {
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly agent: Agent | HttpsAgent;
  /** A socket that has not connected by then fails the request (the SDK's `connectionTimeout`). */
  readonly connectionTimeoutMs: number;
  /** A response not complete by then fails the request (the SDK's `requestTimeout`, as an error). */
  readonly requestTimeoutMs: number;
  readonly abortSignal?: AbortSignal | undefined;
}

/**
 * Sends one request over a keep-alive agent, failing as the SDK's NodeHttpHandler does so that the retry
 * strategy and `failureKind` classify alike: timeouts as `TimeoutError`, an abort as `AbortError`, socket
 * errors as themselves (their `code`, e.g. `ECONNREFUSED`).
 */
export function send(request: WireRequest): Promise<WireResponse> {
  // Only what the callbacks below need is read out of `request`: they live as long as the request (20 s for a
  // long poll), and a closure over `request` would keep its signed headers alive that long too.
  const { url, abortSignal, requestTimeoutMs, connectionTimeoutMs } = request;
  if (abortSignal?.aborted) return Promise.reject(abortError(abortSignal));
  const options = {
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port,
    path: url.pathname + url.search,
    // As raw name/value pairs, written into the request head at once: a headers object is copied header by
    // header into the request (a setHeader call and an entry each), which a 20 s long poll then keeps alive.
    headers: rawHeaders(request.headers),
    agent: request.agent,
  };
  const body = request.body;
  return new Promise<WireResponse>((resolve, reject) => {
    let connectTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => fail(abortError(abortSignal));
    const done = (): void => {
      clearTimeout(requestTimer);
      clearTimeout(connectTimer);
      abortSignal?.removeEventListener("abort", onAbort);
    };
    const outgoing = url.protocol === "https:" ? httpsRequest(options) : httpRequest(options);
    function fail(error: Error): void {
      done();
      outgoing.destroy();
      reject(error);
    }
    abortSignal?.addEventListener("abort", onAbort, { once: true });
    const requestTimer = setTimeout(
      () => fail(timeoutError(`the request got no complete response within ${requestTimeoutMs} ms`, "ETIMEDOUT")),
      requestTimeoutMs,
    );
    outgoing.once("socket", (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(
        () => fail(timeoutError(`the socket did not connect within ${connectionTimeoutMs} ms`)),
        connectionTimeoutMs,
      );
      socket.once("connect", () => clearTimeout(connectTimer));
    });
    outgoing.once("error", (error) => {
      done();
      reject(error);
    });
    outgoing.once("response", (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.once("error", fail);
      incoming.once("end", () => {
        done();
        resolve({
          statusCode: incoming.statusCode ?? 0,
          headers: incoming.headers,
          body: chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"),
        });
      });
    });
    outgoing.end(body);
  });
}

/** Headers as `[name, value, name, value, ...]`, the form `http.request` takes as given. */
function rawHeaders(headers: Record<string, string>): string[] {
  const raw: string[] = [];
  for (const name in headers) raw.push(name, headers[name]!);
  return raw;
}

function timeoutError(message: string, code?: string): Error {
  return Object.assign(new Error(message), { name: "TimeoutError", ...(code ? { code } : {}) });
}

/** The SDK's abort error: named `AbortError`, with the signal's reason as its cause when that is an Error. */
export function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error)
    return Object.assign(new Error("Request aborted", { cause: reason }), { name: "AbortError" });
  return Object.assign(new Error("Request aborted"), { name: "AbortError" });
}
