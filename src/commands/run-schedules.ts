import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  schedulesQueueName,
  SCHEDULES_RETENTION_SECONDS,
  SCHEDULES_VISIBILITY_TIMEOUT_SECONDS,
  SCHEDULES_WAIT_TIME_SECONDS,
} from "../admin/schedules-queue.js";
import type { ResolvedConfig } from "../config/types.js";
import type { Logger } from "../logging.js";
import type { RegisteredQueue } from "../registry/types.js";
import { checkSchedules } from "../schedules/check.js";
import { ScheduleRunner } from "../schedules/runner.js";
import type { QueueUrls } from "../sqs/queue-urls.js";

/** The clients and logger a schedule runner sends and logs with, known only once the daemon has built them. */
export interface ScheduleRunnerDeps {
  readonly client: SQSClient;
  readonly receiveClient: SQSClient;
  readonly urls: QueueUrls;
  readonly logger: Logger;
}

/**
 * The daemon's side of `schedules`, before any SQS request: the checks that need the registry (a config error,
 * exit 2, when they fail). Returns how to build the runner, which first looks up the schedules queue (created
 * with `createQueues`, else it must exist: `sqsd init`), or undefined when the config has no schedules.
 */
export async function prepareSchedules(
  config: ResolvedConfig,
  registered: readonly RegisteredQueue[],
): Promise<((deps: ScheduleRunnerDeps) => Promise<ScheduleRunner>) | undefined> {
  if (config.schedules.length === 0) return undefined;
  const queues = await checkSchedules(config.schedules, registered, config.configPath);
  return async ({ urls, ...deps }) =>
    new ScheduleRunner({
      ...deps,
      schedules: config.schedules,
      queues,
      queueUrl: await urls.resolve(schedulesQueueName(config.queuePrefix), {
        visibilityTimeoutSeconds: SCHEDULES_VISIBILITY_TIMEOUT_SECONDS,
        messageRetentionSeconds: SCHEDULES_RETENTION_SECONDS,
      }),
      // Its own long poll, whatever the daemon-wide default: with waitTimeSeconds 0 the forwarder would spin.
      waitTimeSeconds: SCHEDULES_WAIT_TIME_SECONDS,
      errorBackoff: config.defaults.errorBackoff,
      drainPolls: config.drainPolls,
    });
}
