import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CachedQueueStatus } from "../admin/queue-status.js";
import type { ResolvedConfig } from "../config/types.js";
import { errorSummary } from "../errors.js";
import type { Logger } from "../logging.js";
import type { Supervisor } from "../supervisor/supervisor.js";
import type { Metrics } from "./metrics.js";

type HttpConfig = NonNullable<ResolvedConfig["http"]>;

/** What the HTTP endpoint serves. */
export interface OperationsServerOptions {
  readonly http: HttpConfig;
  readonly supervisor: Supervisor;
  readonly metrics: Metrics;
  readonly status: CachedQueueStatus;
  readonly logger: Logger;
  /** A poller silent for its long-poll wait plus this many seconds is stalled (config `stallSeconds`). */
  readonly stallSeconds: number;
}

type Route = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/**
 * The daemon's HTTP endpoint: status (text and JSON), Prometheus metrics, liveness and readiness probes, and
 * the control routes wake, pause and resume. Reads never create a queue, and queue counts come from a cache,
 * so neither scrapes nor a public status page can run up the SQS bill. The control routes need the bearer
 * token when one is configured, and are refused outright when there is none unless explicitly allowed.
 */
export class OperationsServer {
  readonly #options: OperationsServerOptions;
  readonly #server: Server;
  readonly #routes: Record<string, Route>;
  #started: Promise<string> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: OperationsServerOptions) {
    this.#options = options;
    const { supervisor } = options;
    this.#routes = {
      "GET /status": (_, response) => this.#statusText(response),
      "GET /status.json": (_, response) => this.#statusJson(response),
      "GET /metrics": async (_, response) => {
        const { contentType, body } = await options.metrics.render();
        send(response, 200, body, contentType);
      },
      "GET /healthz": (_, response) => this.#health(response),
      "GET /readyz": (_, response) => {
        const { state } = supervisor.health();
        sendJson(response, state === "running" ? 200 : 503, { ready: state === "running", state });
      },
      "POST /wake": (request, response) =>
        this.#control(request, response, () => {
          supervisor.wake();
          return { woken: true };
        }),
      "POST /pause": (request, response) =>
        this.#control(request, response, () => ({ paused: supervisor.pause(), state: supervisor.health().state })),
      "POST /resume": (request, response) =>
        this.#control(request, response, () => ({ resumed: supervisor.resume(), state: supervisor.health().state })),
    };
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  /** Listens; resolves with the base URL. Idempotent. */
  start(): Promise<string> {
    this.#started ??= new Promise((resolve, reject) => {
      const { host, port } = this.#options.http;
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        const address = this.#server.address() as AddressInfo;
        const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
        this.#options.logger.info("http endpoint listening", { url });
        resolve(url);
      });
    });
    return this.#started;
  }

  /** Stops listening and closes idle connections; bounded by `timeoutMs`. Memoized. */
  stop(timeoutMs = 5_000): Promise<void> {
    this.#stopping ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#server.closeAllConnections();
        resolve();
      }, timeoutMs);
      this.#server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
    return this.#stopping;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const route = this.#routes[`${request.method ?? "GET"} ${path}`];
    try {
      if (route) await route(request, response);
      else if (Object.keys(this.#routes).some((key) => key.endsWith(` ${path}`)))
        sendJson(response, 405, { error: "method not allowed" });
      else sendJson(response, 404, { error: "not found" });
    } catch (error) {
      this.#options.logger.warn("http request failed", { path, error: errorSummary(error) });
      if (!response.headersSent) sendJson(response, 500, { error: errorSummary(error) });
    }
  }

  /** django-sqs's status view: a line per queue, `name<TAB>visible messages`, under a timestamp. */
  async #statusText(response: ServerResponse): Promise<void> {
    const { asOf, queues } = await this.#options.status.get();
    const lines = [
      `Queue status as of ${asOf.toISOString()}`,
      ...queues.map((queue) => `${queue.name}\t${queue.visible}`),
    ];
    send(response, 200, `${lines.join("\n")}\n`, "text/plain; charset=utf-8");
  }

  async #statusJson(response: ServerResponse): Promise<void> {
    const { asOf, queues } = await this.#options.status.get();
    sendJson(response, 200, { asOf: asOf.toISOString(), supervisor: this.#options.supervisor.health(), queues });
  }

  /**
   * Liveness: every running poller has made progress within its long-poll wait plus `stallSeconds`, and no
   * queue has had work and a free slot for longer than `stallSeconds` without starting any.
   */
  #health(response: ServerResponse): void {
    const health = this.#options.supervisor.health();
    const limitMs = this.#options.stallSeconds * 1000;
    const stalled = health.pollers.filter((poller) => poller.silentMs > limitMs);
    const healthy = stalled.length === 0 && health.starved.length === 0;
    sendJson(response, healthy ? 200 : 503, {
      healthy,
      state: health.state,
      stalled: stalled.map((poller) => ({
        queue: poller.queue,
        silentMs: poller.silentMs,
        lastPollAt: poller.lastPollAt,
      })),
      starved: health.starved,
    });
  }

  #control(request: IncomingMessage, response: ServerResponse, action: () => unknown): void {
    const { token, allowUnauthenticatedControl } = this.#options.http;
    if (token === undefined && !allowUnauthenticatedControl) {
      sendJson(response, 403, {
        error: "control routes are off: set http.token (or http.allowUnauthenticatedControl) in the config",
      });
      return;
    }
    if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
      response.setHeader("www-authenticate", 'Bearer realm="sqsd"');
      sendJson(response, 401, { error: "a valid bearer token is required" });
      return;
    }
    sendJson(response, 200, action());
  }
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  // Constant time, so response timing does not reveal how much of a guess was right.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function send(response: ServerResponse, status: number, body: string, contentType: string): void {
  response.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, `${JSON.stringify(value)}\n`, "application/json");
}
