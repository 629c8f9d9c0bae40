import type { Worker } from "node:worker_threads";
import type { Logger } from "../logging.js";
import type { ChannelEndpoint } from "./channel.js";
import type { SupervisorServices, ThreadServices } from "./channel-messages.js";
import type { ThreadReports } from "./thread-reports.js";

/** Which threads a teardown asks: the one idle thread being ended, or every thread as the pool closes. */
export type TeardownTarget = { readonly retiring: number } | { readonly closing: readonly number[] };

/** What a teardown request works with: the pool's channel, its thread reports and live threads. */
export interface TeardownContext {
  readonly channel: ChannelEndpoint<SupervisorServices, ThreadServices>;
  readonly reports: ThreadReports;
  readonly logger: Logger;
  /** The live thread with this id, if any. */
  readonly thread: (threadId: number) => Worker | undefined;
  /** Whether the pool is closing: a close that begins while one thread retires ends that wait. */
  readonly closing: () => boolean;
}

/**
 * Asks threads for their teardown hooks and waits until each has answered or is gone, at most `timeoutMs`;
 * past that it warns (saying how many did not answer) and goes on. A close that begins while one thread
 * retires ends that wait: the close tears every thread down.
 */
export async function requestTeardown(
  context: TeardownContext,
  target: TeardownTarget,
  timeoutMs: number,
  lateWarning: string,
): Promise<void> {
  const single = "retiring" in target ? target.retiring : undefined;
  const threadIds = "retiring" in target ? [target.retiring] : target.closing;
  const pending = (): number[] =>
    threadIds.filter((id) => !context.reports.isTornDown(id) && context.thread(id) !== undefined);
  const answered = context.reports.until(
    () => pending().length === 0 || (single !== undefined && context.closing()),
    timeoutMs,
  );
  context.channel.post(single === undefined ? { type: "teardown" } : { type: "teardown", threadId: single });
  if (!(await answered)) context.logger.warn(lateWarning, { timeoutMs, waitingFor: pending().length });
}
