/**
 * `sqsd run`'s HTTP side, imported only when the config has `http`: the cached queue counts it serves, and the
 * operations server (status, metrics, dashboard, controls) built on them.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { readFileSync } from "node:fs";
import { CachedQueueStatus, readQueueStatus } from "../admin/queue-status.js";
import type { ResolvedConfig } from "../config/types.js";
import { errorSummary } from "../errors.js";
import { controlAvailability } from "../http/control-access.js";
import { LiveSampler } from "../http/live-sampler.js";
import { Metrics, type MetricsSources } from "../http/metrics.js";
import { OperationsServer } from "../http/server.js";
import type { Logger } from "../logging.js";
import type { HandlerPool } from "../pool/pool.js";
import type { ScheduleRunner } from "../schedules/runner.js";
import type { QueueUrls } from "../sqs/queue-urls.js";
import type { Supervisor } from "../supervisor/supervisor.js";
import type { PollTarget } from "../supervisor/target.js";
import { RateLimit } from "../util/rate-limit.js";

/** The config's `http` section, as resolved. */
type HttpConfig = NonNullable<ResolvedConfig["http"]>;

/** Queue counts for the status page, metrics and the stall check: the consumed queues and their DLQs. */
export function queueStatusCache(
  http: HttpConfig,
  client: SQSClient,
  urls: QueueUrls,
  targets: readonly PollTarget[],
  logger: Logger,
): CachedQueueStatus {
  const names = targets.map((target) => target.fullName);
  // One line a minute at most, saying how many it stands for: scrapes and pages may ask every few seconds.
  const warnings = new RateLimit(1, 60_000);
  return new CachedQueueStatus(
    () => readQueueStatus(client, urls, names),
    http.statusCacheSeconds * 1000,
    (error) => {
      const pass = warnings.take();
      if (!pass.allowed) return;
      logger.warn("reading the queues' counts failed; status pages and metrics serve the last good read", {
        error: errorSummary(error),
        failuresNotLogged: pass.heldBack,
      });
    },
  );
}

/** What the operations server reads and serves; the run command has built all of it. */
export interface OperationsParts {
  readonly http: HttpConfig;
  readonly stallSeconds: number;
  readonly supervisor: Supervisor;
  readonly pool: HandlerPool;
  /** Every SQS client the daemon sends with, and the lean paths beside them: their requests are counted. */
  readonly clients: MetricsSources["clients"];
  readonly status: CachedQueueStatus;
  readonly schedules: ScheduleRunner | undefined;
  readonly logger: Logger;
}

/** The operations server with its metrics and dashboard sampler, not yet started. */
export function createOperationsServer(parts: OperationsParts): OperationsServer {
  const { http, supervisor, pool, status, schedules, logger } = parts;
  const metrics = new Metrics({ supervisor, pool, clients: parts.clients, status, schedules });
  const dashboard = new LiveSampler(
    {
      supervisor,
      pool,
      sqsRequests: metrics.sqsRequests,
      status,
      controls: controlAvailability(http),
      version: packageVersion(),
      schedules,
    },
    { statusCacheMs: http.statusCacheSeconds * 1000 },
  );
  return new OperationsServer({
    dashboard,
    http,
    supervisor,
    metrics,
    status,
    logger,
    stallSeconds: parts.stallSeconds,
    schedules,
  });
}

/** sqsd's version, for the dashboard (this module is dist/src/commands/run-http.js in the package). */
function packageVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return packageJson.version;
}
