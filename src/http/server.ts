import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { STATUS_WAIT_MS, type CachedQueueStatus, type LatestQueueStatus } from "../admin/queue-status.js";
import type { ResolvedConfig } from "../config/types.js";
import { errorSummary } from "../errors.js";
import type { Logger } from "../logging.js";
import type { Supervisor } from "../supervisor/supervisor.js";
import type { ScheduleRunner, ScheduleStatus } from "../schedules/runner.js";
import { RateLimit } from "../util/rate-limit.js";
import { bearerMatches, isLoopbackHost, isPreflightedRequest } from "./control-access.js";
import { DASHBOARD_PATHS, serveDashboardAsset } from "./dashboard-assets.js";
import { EventStream, MAX_EVENT_STREAMS } from "./event-stream.js";
import type { LiveSampler } from "./live-sampler.js";
import type { Metrics } from "./metrics.js";
import { createLimitedServer, HTTP_SERVER_LIMITS, type HttpServerLimits } from "./server-limits.js";

type HttpConfig = NonNullable<ResolvedConfig["http"]>;

/** Refused control requests (and dropped connections) logged per minute; the rest are counted in the next line. */
const REFUSALS_LOGGED_PER_MINUTE = 10;

/** What the HTTP endpoint serves. */
export interface OperationsServerOptions {
  readonly http: HttpConfig;
  readonly supervisor: Supervisor;
  readonly metrics: Metrics;
  readonly status: CachedQueueStatus;
  readonly logger: Logger;
  /** A poller silent for its long-poll wait plus this many seconds is stalled (config `stallSeconds`). */
  readonly stallSeconds: number;
  /** The cron schedules, shown in /status.json when the config has any. @defaultValue none */
  readonly schedules?: ScheduleRunner | undefined;
  /**
   * The dashboard's sampler: with it, the server serves the page (`GET /`, `/dashboard`, `/assets/...`) and
   * its live stream (`GET /events`), and starts and stops the sampler with itself. @defaultValue no dashboard
   */
  readonly dashboard?: LiveSampler;
  /** For tests: some of the fixed server limits, overridden. */
  readonly limits?: Partial<HttpServerLimits>;
}

type Route = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/**
 * The daemon's HTTP endpoint: status (text and JSON), Prometheus metrics, liveness and readiness probes, and
 * the control routes wake, pause and resume. Reads never create a queue, and queue counts come from a cache,
 * so neither scrapes nor a public status page can run up the SQS bill. The control routes need the bearer
 * token when one is configured, and are refused outright when there is none unless explicitly allowed; then
 * they need a JSON content type, so that no cross-site form can reach them. Refusals are logged with the remote
 * address, at most {@link REFUSALS_LOGGED_PER_MINUTE} lines a minute. Status pages never wait on SQS for more
 * than 2 s: they serve the last counts read, with their age, or answer 503.
 */
export class OperationsServer {
  readonly #options: OperationsServerOptions;
  readonly #server: Server;
  readonly #routes: Record<string, Route>;
  readonly #refusalLog = new RateLimit(REFUSALS_LOGGED_PER_MINUTE, 60_000);
  readonly #dropLog = new RateLimit(REFUSALS_LOGGED_PER_MINUTE, 60_000);
  readonly #events: EventStream | undefined;
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
        const ready = state === "running" || (state === "paused" && options.http.readyWhenPaused);
        sendJson(response, ready ? 200 : 503, { ready, state });
      },
      "POST /wake": (request, response) =>
        this.#control(request, response, () => {
          supervisor.wake();
          return { woken: true };
        }),
      "POST /pause": (request, response) =>
        this.#control(request, response, (queue) =>
          queue === undefined
            ? { paused: supervisor.pause(), state: supervisor.health().state }
            : { paused: supervisor.pauseQueue(queue), queue },
        ),
      "POST /resume": (request, response) =>
        this.#control(request, response, (queue) =>
          queue === undefined
            ? { resumed: supervisor.resume(), state: supervisor.health().state }
            : { resumed: supervisor.resumeQueue(queue), queue },
        ),
    };
    const { dashboard } = options;
    if (dashboard) {
      const events = (this.#events = new EventStream(dashboard));
      this.#routes["GET /events"] = (_, response) => events.open(response);
      this.#routes["GET /errors"] = (request, response) => this.#errors(request, response, dashboard);
      for (const path of DASHBOARD_PATHS)
        this.#routes[`GET ${path}`] = (_, response) => serveDashboardAsset(path, response);
    }
    this.#server = createLimitedServer(
      withStreamBudget(options.limits ?? {}, dashboard !== undefined),
      (request, response) => void this.#handle(request, response),
      (remoteAddress, maxConnections) => {
        const take = this.#dropLog.take();
        if (!take.allowed) return;
        options.logger.warn("http connection refused: too many open connections", {
          remoteAddress,
          maxConnections,
          ...(take.heldBack > 0 && { alsoRefused: take.heldBack }),
        });
      },
    );
  }

  /** Listens; resolves with the base URL. Idempotent. */
  start(): Promise<string> {
    this.#started ??= new Promise((resolve, reject) => {
      const { host, port, token, allowUnauthenticatedControl } = this.#options.http;
      if (token === undefined && allowUnauthenticatedControl && !isLoopbackHost(host)) {
        this.#options.logger.warn(
          "http control routes need no token and the endpoint listens beyond this host: anyone who can reach it can pause the daemon; set http.token",
          { host },
        );
      }
      this.#server.once("error", reject);
      this.#options.dashboard?.start();
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
      // Open event streams would hold the server open until the timeout: end them first.
      this.#events?.close();
      this.#options.dashboard?.stop();
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
      // Not the error itself: SQS errors name the queue URL, which on AWS holds the account ID.
      if (!response.headersSent) sendJson(response, 500, { error: "internal error; see the daemon's log" });
    }
  }

  /**
   * django-sqs's status view: a line per queue, `name<TAB>visible messages`, under a timestamp. Counts older
   * than a fresh read (SQS failed or was slow) say so on the first line; with none at all, 503.
   */
  async #statusText(response: ServerResponse): Promise<void> {
    const counts = await this.#options.status.latest(STATUS_WAIT_MS);
    if (!counts) {
      send(response, 503, `Queue status unavailable: ${UNAVAILABLE}\n`, "text/plain; charset=utf-8");
      return;
    }
    const { asOf, queues, stale } = counts;
    const staleNote = stale ? ` (stale: ${ageSeconds(counts)} s old; SQS did not answer)` : "";
    const lines = [
      `Queue status as of ${asOf.toISOString()}${staleNote}`,
      ...queues.map((queue) => `${queue.name}\t${queue.visible}`),
    ];
    send(response, 200, `${lines.join("\n")}\n`, "text/plain; charset=utf-8");
  }

  /** The supervisor's state, always; the queue counts with their age, or `queues: null` and 503 when none were ever read. */
  async #statusJson(response: ServerResponse): Promise<void> {
    const counts = await this.#options.status.latest(STATUS_WAIT_MS);
    const supervisor = this.#options.supervisor.health();
    if (!counts) {
      sendJson(response, 503, {
        error: UNAVAILABLE,
        asOf: null,
        ageSeconds: null,
        stale: true,
        supervisor,
        queues: null,
        ...this.#schedules(),
      });
      return;
    }
    const { asOf, queues, stale } = counts;
    sendJson(response, 200, {
      asOf: asOf.toISOString(),
      ageSeconds: ageSeconds(counts),
      stale,
      supervisor,
      queues,
      ...this.#schedules(),
    });
  }

  /** `schedules` for /status.json: present only when the config has schedules. */
  #schedules(): { schedules?: ScheduleStatus[] } {
    const { schedules } = this.#options;
    return schedules ? { schedules: schedules.status() } : {};
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

  /**
   * A control route; `action` gets the `queue` query parameter (a full queue name), undefined for the whole
   * daemon. An unknown queue is a 404.
   */
  #control(request: IncomingMessage, response: ServerResponse, action: (queue: string | undefined) => unknown): void {
    const { token, allowUnauthenticatedControl } = this.#options.http;
    if (token === undefined && !allowUnauthenticatedControl) {
      this.#refuse(request, response, 403, "control routes are off", {
        error: "control routes are off: set http.token (or http.allowUnauthenticatedControl) in the config",
      });
      return;
    }
    if (token !== undefined) {
      if (!this.#bearerAccepted(request, response, token)) return;
    } else if (!isPreflightedRequest(request)) {
      // Without a token, the only thing between a web page and this route is the browser's CORS check: a
      // JSON content type makes the browser ask first (and this server never says yes); a form POST does not.
      this.#refuse(
        request,
        response,
        415,
        "possible cross-site request (neither a JSON content type nor Authorization)",
        {
          error: "control requests need Content-Type: application/json (or an Authorization header)",
        },
      );
      return;
    }
    const queue = new URL(request.url ?? "/", "http://localhost").searchParams.get("queue") ?? undefined;
    if (queue !== undefined && !this.#options.supervisor.targets.some((target) => target.fullName === queue)) {
      sendJson(response, 404, { error: `queue ${JSON.stringify(queue)} is not consumed by this daemon` });
      return;
    }
    sendJson(response, 200, action(queue));
  }

  /**
   * `GET /errors`: each queue's last error message, which the open stream leaves out. Only with the token:
   * without one configured nobody gets them, whatever `allowUnauthenticatedControl` says, since reading them
   * needs no CORS preflight to stop another site's page.
   */
  #errors(request: IncomingMessage, response: ServerResponse, dashboard: LiveSampler): void {
    const { token } = this.#options.http;
    if (token === undefined) {
      this.#refuse(request, response, 403, "error messages are off", {
        error: "error messages need http.token in the config",
      });
      return;
    }
    if (!this.#bearerAccepted(request, response, token)) return;
    sendJson(response, 200, { errors: dashboard.lastErrors() });
  }

  /** True when the request carries `Bearer <token>`; otherwise answers 401 and returns false. */
  #bearerAccepted(request: IncomingMessage, response: ServerResponse, token: string): boolean {
    if (bearerMatches(request.headers.authorization, token)) return true;
    response.setHeader("www-authenticate", 'Bearer realm="sqsd"');
    const reason = request.headers.authorization === undefined ? "no bearer token" : "wrong bearer token";
    this.#refuse(request, response, 401, reason, { error: "a valid bearer token is required" });
    return false;
  }

  /** Answers a refused control request, and logs it with the remote address, rate-limited. */
  #refuse(request: IncomingMessage, response: ServerResponse, status: number, reason: string, body: unknown): void {
    const take = this.#refusalLog.take();
    if (take.allowed) {
      this.#options.logger.warn("http control request refused", {
        route: `${request.method ?? "GET"} ${new URL(request.url ?? "/", "http://localhost").pathname}`,
        status,
        reason,
        remoteAddress: request.socket.remoteAddress,
        ...(take.heldBack > 0 && { alsoRefused: take.heldBack }),
      });
    }
    sendJson(response, status, body);
  }
}

const UNAVAILABLE = "queue counts are unavailable: SQS has not answered since the daemon started";

/** How old the counts are, to a tenth of a second. */
function ageSeconds(counts: LatestQueueStatus): number {
  return Math.max(0, Math.round((Date.now() - counts.asOf.getTime()) / 100) / 10);
}

/** The server's limits, with room for every event stream on top of the connection limit when it has any. */
function withStreamBudget(limits: Partial<HttpServerLimits>, streams: boolean): Partial<HttpServerLimits> {
  if (!streams) return limits;
  return {
    ...limits,
    maxConnections: (limits.maxConnections ?? HTTP_SERVER_LIMITS.maxConnections) + MAX_EVENT_STREAMS,
  };
}

function send(response: ServerResponse, status: number, body: string, contentType: string): void {
  response.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, `${JSON.stringify(value)}\n`, "application/json");
}
