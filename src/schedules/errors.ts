/** The errors of cron schedules: a body function that failed, a forward past its deadline, an unreadable status. */
import { SqsdError } from "../errors.js";

/**
 * A schedule's `body` function threw (or rejected) for a tick. Permanent for that tick: the same function on
 * the same tick is not retried; the tick is dropped and counted as failed.
 */
export class ScheduleBodyError extends SqsdError {
  override readonly name = "ScheduleBodyError";
  readonly code = "SQSD_SCHEDULE_BODY";
  readonly exitCode = 1;
  readonly schedule: string;
  constructor(schedule: string, cause: unknown) {
    // The cause's message is not quoted: user code may put data in it.
    super(`the body function of schedule "${schedule}" failed (${errorName(cause)})`, { cause });
    this.schedule = schedule;
  }
}

/** Forwarding one schedule tick took longer than its deadline; the tick is left for a later retry. */
export class ScheduleForwardTimeoutError extends SqsdError {
  override readonly name = "ScheduleForwardTimeoutError";
  readonly code = "SQSD_SCHEDULE_FORWARD_TIMEOUT";
  readonly exitCode = 1;
  readonly schedule: string;
  constructor(schedule: string, timeoutMs: number) {
    super(`forwarding a tick of schedule "${schedule}" took longer than ${timeoutMs} ms`);
    this.schedule = schedule;
  }
}

/** `sqsd schedules --http`: the daemon's /status.json could not be read, or has no schedules in it. */
export class DaemonStatusError extends SqsdError {
  override readonly name = "DaemonStatusError";
  readonly code = "SQSD_DAEMON_STATUS";
  readonly exitCode = 1;
  readonly url: string;
  constructor(url: string, reason: string, cause?: unknown) {
    super(`cannot read the daemon's status at ${url}: ${reason}`, { cause });
    this.url = url;
  }
}

/** An error's name and code, without its message, which user code may fill with data. */
function errorName(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? `${error.name} ${code}` : error.name;
}
