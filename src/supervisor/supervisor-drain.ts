import type { ResolvedConfig } from "../config/types.js";
import type { Logger } from "../logging.js";
import type { HandlerPool } from "../pool/pool.js";
import type { Acker } from "./acker.js";
import type { Dispatcher } from "./dispatcher.js";
import { drain, type DrainResult } from "./drain.js";
import type { Poller } from "./poller.js";
import type { Scheduler } from "./scheduler.js";

/** After the drain timeout, how long handlers get between their signal aborting and their thread ending. */
const ABORT_GRACE_MS = 2_000;
/**
 * How long a drain's final flush (deletes, visibility changes, then large payloads' objects) may take. It
 * bounds a drain during an SQS outage; the stop time docs/operations.md states counts it.
 */
export const DRAIN_FLUSH_LIMIT_MS = 5_000;

/** The supervisor's parts a drain stops, each through the narrow interface drain.ts names. */
export interface SupervisorParts {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly pool: HandlerPool;
  readonly pollers: readonly Poller[];
  readonly scheduler: Scheduler;
  readonly dispatcher: Dispatcher;
  readonly acker: Acker;
}

/**
 * Runs the drain's phases (drain.ts) over the supervisor's parts: the pollers stop receiving, running handlers
 * finish or are interrupted, acknowledgements and large payloads' deletes are flushed, and the pool closes.
 */
export function drainSupervisor(parts: SupervisorParts): Promise<DrainResult> {
  const { config, logger, pool, pollers, scheduler, dispatcher, acker } = parts;
  return drain(
    {
      receivers: {
        stopReceiving: () => pollers.forEach((poller) => poller.stopReceiving()),
        abortReceives: () => pollers.forEach((poller) => poller.abortReceives()),
        receivesUnderWay: () => pollers.reduce((sum, poller) => sum + poller.receivesUnderWay, 0),
        stopped: async () => void (await Promise.all(pollers.map((poller) => poller.stop()))),
      },
      scheduler,
      handlers: { interrupt: (why) => dispatcher.interrupt(why, scheduler.runningDeliveries()) },
      pool,
      acks: {
        // Objects of large payloads go after their messages' deletes, so they are flushed after the acker.
        flush: async (limitMs) => {
          const flushBy = Date.now() + limitMs;
          await acker.flush(limitMs);
          // Bounded by what is left: a drain must end even when S3 does not answer.
          await dispatcher.flushPayloadDeletes(Math.max(0, flushBy - Date.now()));
        },
      },
      logger,
    },
    {
      drainTimeoutMs: config.drainTimeoutMs,
      abortGraceMs: ABORT_GRACE_MS,
      waitTimeSeconds: config.defaults.waitTimeSeconds,
      drainPolls: config.drainPolls,
      flushLimitMs: DRAIN_FLUSH_LIMIT_MS,
    },
    "sqsd is shutting down",
  );
}
