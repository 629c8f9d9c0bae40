/**
 * Which queues `sqsd run` consumes: the registered queues the command line selects, each physical queue's URL
 * (suffixed variants included), and the start-up check that warns about a queue with no redrive policy.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { physicalQueues } from "../admin/physical-queues.js";
import { parseRedrivePolicy, readAttributes } from "../admin/queue-status.js";
import type { ResolvedConfig } from "../config/types.js";
import { errorSummary, QueueNotFoundError, UnknownQueueError, UsageError } from "../errors.js";
import type { Logger } from "../logging.js";
import type { RegisteredQueue } from "../registry/types.js";
import type { QueueUrls } from "../sqs/queue-urls.js";
import type { PollTarget } from "../supervisor/target.js";
import { mapWithConcurrency } from "../util/concurrency.js";

/**
 * Start-up requests (queue look-ups, redrive checks) under way at once: well within the acks' sockets, so none
 * waits for a socket past the SDK's connection timeout, however many queues there are.
 */
const STARTUP_REQUESTS = 32;

/** The queues to consume: those named on the command line, or every queue with a handler. */
export function selectQueues(registered: readonly RegisteredQueue[], names: readonly string[]): RegisteredQueue[] {
  const known = registered.map((queue) => queue.name);
  if (names.length === 0) {
    const consumable = registered.filter((queue) => queue.handler !== undefined);
    if (consumable.length === 0) {
      throw new UsageError(
        registered.length === 0
          ? "the receiver modules registered no queues"
          : `no registered queue has a handler (send-only: ${known.join(", ")})`,
      );
    }
    return consumable;
  }
  return names.map((name) => {
    const queue = registered.find((candidate) => candidate.name === name);
    if (!queue) throw new UnknownQueueError(name, known);
    if (!queue.handler) throw new UsageError(`queue "${name}" is send-only (registered without a handler)`);
    return queue;
  });
}

/**
 * The queues to poll, with their URLs. A suffix the receiver did not declare (given with `--suffix`) warns, as
 * django-sqs did, and is consumed where its queue exists; it never creates one, whatever `createQueues` says:
 * a typo on the command line must not bring queues into being for every receiver. Where such queues are
 * missing, it is a usage error that names them all.
 */
export async function resolveTargets(
  queues: readonly RegisteredQueue[],
  suffixes: readonly string[] | undefined,
  config: ResolvedConfig,
  urls: QueueUrls,
): Promise<PollTarget[]> {
  const missing: { readonly fullName: string; readonly suffix: string }[] = [];
  const targets = await mapWithConcurrency(
    physicalQueues(queues, config, { suffixes }),
    STARTUP_REQUESTS,
    async (physical) => {
      const { suffix } = physical;
      if (suffix === undefined || (physical.queue.options.suffixes ?? []).includes(suffix)) {
        const url = await urls.resolve(physical.fullName, {
          visibilityTimeoutSeconds: physical.visibilityTimeoutSeconds,
        });
        return { ...physical, url };
      }
      try {
        return { ...physical, url: await urls.find(physical.fullName) };
      } catch (error) {
        if (!(error instanceof QueueNotFoundError)) throw error;
        missing.push({ fullName: physical.fullName, suffix });
        return undefined;
      }
    },
  );
  if (missing.length > 0) {
    const undeclared = [...new Set(missing.map((queue) => queue.suffix))].map((suffix) => `"${suffix}"`);
    const names = missing.map((queue) => queue.fullName).sort();
    throw new UsageError(
      `--suffix ${undeclared.join(", ")} is not declared for these queues, and they do not exist: ` +
        `${names.join(", ")}. sqsd creates queues only for declared suffixes (a receiver's suffixes option); ` +
        `an undeclared one is consumed only where its queue exists`,
    );
  }
  return targets.filter((target) => target !== undefined);
}

/**
 * A queue that retries failures but has no redrive policy keeps a poison message until its retention period
 * ends (up to 14 days), receiving it again and again: worth a warning at start-up.
 */
export async function warnAboutMissingRedrive(
  targets: readonly PollTarget[],
  client: SQSClient,
  urls: QueueUrls,
  logger: Logger,
): Promise<void> {
  // A read that fails (a missing sqs:GetQueueAttributes, an outage) leaves that queue unchecked: said once, for
  // all of them, rather than a line per queue.
  const unchecked: { queue: string; error: unknown }[] = [];
  await mapWithConcurrency(
    targets.filter(
      (target) => (target.queue.options.onError ?? "retry") === "retry" && !target.queue.options.deleteOnStart,
    ),
    STARTUP_REQUESTS,
    async (target) => {
      const attributes = await readAttributes(client, urls, target.fullName, ["RedrivePolicy"]).catch(
        (error: unknown) => void unchecked.push({ queue: target.fullName, error }),
      );
      if (attributes && !parseRedrivePolicy(attributes["RedrivePolicy"])) {
        logger.warn(
          "queue has no redrive policy: a message that always fails will be retried until its retention period ends",
          {
            queue: target.fullName,
            fix: "give it a dead-letter queue (deadLetter option, then sqsd init)",
          },
        );
      }
    },
  );
  const [first] = unchecked;
  if (first) {
    logger.warn("could not read the redrive policy of some queues; they were not checked for one", {
      queues: unchecked.length,
      firstQueue: first.queue,
      error: errorSummary(first.error),
    });
  }
}
