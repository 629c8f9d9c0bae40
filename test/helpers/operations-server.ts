import type { CachedQueueStatus } from "../../src/admin/queue-status.js";
import type { Metrics } from "../../src/http/metrics.js";
import type { HttpServerLimits } from "../../src/http/server-limits.js";
import { OperationsServer } from "../../src/http/server.js";
import type { Supervisor, SupervisorHealth } from "../../src/supervisor/supervisor.js";
import type { LogRecord } from "./daemon.js";
import { memoryLogger } from "./memory-logger.js";

/** What {@link startOperationsServer} takes: the HTTP config, and stand-ins for the parts a test needs. */
export interface TestServerOptions {
  readonly host?: string;
  readonly token?: string;
  readonly allowUnauthenticatedControl?: boolean;
  readonly readyWhenPaused?: boolean;
  /** The stand-in supervisor's state, read on every request. @defaultValue always `"running"` */
  readonly state?: () => SupervisorHealth["state"];
  /** Stands in for the status cache (`get` is served from it too). */
  readonly latest?: CachedQueueStatus["latest"];
  readonly limits?: Partial<HttpServerLimits>;
}

/**
 * The daemon's HTTP server, on a real socket, with a stand-in supervisor that records control calls: routing,
 * access control and the server's limits are logic of their own. The endpoint against a real daemon is in
 * e2e/http.test.ts.
 */
export async function startOperationsServer(options: TestServerOptions = {}): Promise<{
  server: OperationsServer;
  base: string;
  calls: string[];
  records: LogRecord[];
}> {
  const calls: string[] = [];
  const supervisor = {
    wake: () => void calls.push("wake"),
    pause: () => (calls.push("pause"), true),
    resume: () => (calls.push("resume"), true),
    health: () => ({ state: options.state?.() ?? "running", inFlight: 0, maxInFlight: 1, processed: 0, pollers: [] }),
  } as unknown as Supervisor;
  const { logger, records } = memoryLogger();
  const latest = options.latest ?? (() => Promise.resolve(undefined));
  const status = {
    latest,
    get: async () => (await latest(0)) ?? Promise.reject(new Error("no queue status")),
  } as unknown as CachedQueueStatus;
  const server = new OperationsServer({
    http: {
      port: 0,
      host: options.host ?? "127.0.0.1",
      token: options.token,
      allowUnauthenticatedControl: options.allowUnauthenticatedControl ?? false,
      statusCacheSeconds: 0,
      readyWhenPaused: options.readyWhenPaused ?? false,
    },
    stallSeconds: 60,
    supervisor,
    metrics: {} as Metrics,
    status,
    logger,
    ...(options.limits && { limits: options.limits }),
  });
  const base = await server.start();
  return { server, base: base.replace("//0.0.0.0:", "//127.0.0.1:"), calls, records };
}
