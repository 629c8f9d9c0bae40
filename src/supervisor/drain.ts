import { errorSummary } from "../errors.js";
import type { Logger } from "../logging.js";

/** The receiving side, as a drain sees it: the pollers. */
export interface DrainReceivers {
  /** Issues no new receive; receives waiting on SQS go on. */
  stopReceiving(): void;
  /** Ends the receives waiting on SQS now (`drainPolls: "abort"`). */
  abortReceives(): void;
  /** Receives waiting on SQS now. */
  receivesUnderWay(): number;
  /** Resolves once every receive under way has returned. */
  stopped(): Promise<void>;
}

/** The scheduling side: buffered and running messages. */
export interface DrainScheduler {
  /** Nothing more starts; buffered messages go back (once no receive of ours waits on their queue). */
  beginDrain(): void;
  /** True once nothing runs; false if `timeoutMs` passed first. */
  waitUntilIdle(timeoutMs: number): Promise<boolean>;
  /** Releases whatever still waits to go back. */
  releaseAll(): void;
  readonly running: number;
}

/** The running handlers. */
export interface DrainHandlers {
  /** Aborts every running handler's signal; returns how many were running. */
  interrupt(reason: string): number;
}

/** The worker-thread pool. */
export interface DrainPool {
  /** Ends every thread now. */
  terminate(): Promise<void>;
  /** Runs teardown hooks, then ends the threads. */
  close(): Promise<void>;
}

/** Deletes and visibility changes still to send. */
export interface DrainAcks {
  /** Sends them; what is not settled within `limitMs` is given up (and may be redelivered). */
  flush(limitMs: number): Promise<void>;
}

/** Everything a drain works on, each behind the narrow interface it needs. */
export interface DrainParts {
  readonly receivers: DrainReceivers;
  readonly scheduler: DrainScheduler;
  readonly handlers: DrainHandlers;
  readonly pool: DrainPool;
  readonly acks: DrainAcks;
  readonly logger: Logger;
}

/** How long each wait of a drain may take. */
export interface DrainTimings {
  /** How long running handlers get to finish (`drainTimeoutMs`). */
  readonly drainTimeoutMs: number;
  /** After the drain timeout: how long aborted handlers get before their threads are ended. */
  readonly abortGraceMs: number;
  /** The long-poll wait, for the log line that explains a wait for receives under way. */
  readonly waitTimeSeconds: number;
  /** `drainPolls`: let receives under way return (`wait`), or end them at once (`abort`). */
  readonly drainPolls: "wait" | "abort";
  /**
   * How long the final flush of deletes and visibility changes may take. Without a bound, a drain during an
   * outage retried each entry for as long as its receipt handle was valid: up to the visibility timeout.
   */
  readonly flushLimitMs: number;
}

/** What a drain came to. */
export interface DrainResult {
  /** Handlers still running when the drain timeout passed: their messages were released. */
  readonly interrupted: number;
}

/** The phases of a drain, in the order they run. Each is logged at debug level as it starts. */
export const DRAIN_PHASES = [
  "stopReceiving",
  "waitForHandlers",
  "interrupt",
  "terminate",
  "giveBack",
  "flushAcks",
  "closePool",
] as const;

/** One phase of a drain. */
export type DrainPhase = (typeof DRAIN_PHASES)[number];

/**
 * Stops the daemon without stranding a message, phase by phase:
 *
 * 1. `stopReceiving`: no new receive; nothing more starts, and buffered messages go back to SQS (visibility 0)
 *    as soon as no receive of ours waits on their queue. Receives already waiting are not aborted unless
 *    `drainPolls` is `abort`: an aborted long poll can live on at the server and take a message that then stays
 *    hidden for its visibility timeout.
 * 2. `waitForHandlers`: running handlers finish, up to `drainTimeoutMs`.
 * 3. `interrupt` (only past the timeout): running handlers' signals abort; they get `abortGraceMs`.
 * 4. `terminate` (only if some still run): the pool's threads are ended; their messages are released.
 * 5. `giveBack`: once every receive has returned, whatever still waits to go back is released.
 * 6. `flushAcks`: deletes and visibility changes still queued are sent, within `flushLimitMs`.
 * 7. `closePool`: teardown hooks run in every thread, then the threads end.
 *
 * The cleanup phases (5-7) run even if an earlier one throws, each in its own try/catch.
 */
export async function drain(parts: DrainParts, timings: DrainTimings, reason: string): Promise<DrainResult> {
  const { receivers, scheduler, handlers, pool, acks, logger } = parts;
  const phase = (name: DrainPhase): void => void logger.debug("drain phase", { phase: name });
  let interrupted = 0;
  try {
    phase("stopReceiving");
    receivers.stopReceiving();
    if (timings.drainPolls === "abort") receivers.abortReceives();
    scheduler.beginDrain();
    phase("waitForHandlers");
    if (!(await scheduler.waitUntilIdle(timings.drainTimeoutMs))) {
      phase("interrupt");
      interrupted = handlers.interrupt(reason);
      logger.warn("drain timeout reached; aborted running handlers", { running: interrupted });
      if (!(await scheduler.waitUntilIdle(timings.abortGraceMs))) {
        phase("terminate");
        await pool.terminate();
        await scheduler.waitUntilIdle(timings.abortGraceMs);
      }
    }
  } finally {
    const polling = receivers.receivesUnderWay();
    // Aborted receives end in a moment; only waiting ones are worth a line.
    if (polling > 0 && timings.drainPolls === "wait") {
      logger.info("waiting for long polls under way to return", {
        receives: polling,
        waitTimeSeconds: timings.waitTimeSeconds,
      });
    }
    await runEach(logger, [
      async () => {
        await receivers.stopped();
        phase("giveBack");
        scheduler.releaseAll();
      },
      async () => {
        phase("flushAcks");
        await acks.flush(timings.flushLimitMs);
      },
      async () => {
        phase("closePool");
        await pool.close();
      },
    ]);
  }
  return { interrupted };
}

/** Runs cleanup steps one after another; one failing does not skip the rest. */
async function runEach(logger: Logger, steps: readonly (() => Promise<unknown>)[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      logger.error("shutdown step failed", { error: errorSummary(error) });
    }
  }
}
