import { isIP } from "node:net";
import { errorSummary } from "../errors.js";
import { DaemonStatusError } from "../schedules/errors.js";
import { checkSchedules } from "../schedules/check.js";
import type { ScheduleStatus } from "../schedules/runner.js";
import { formatInZone, parseCron } from "../util/cron.js";
import { openCommandContext, table, type CommandOptions } from "./context.js";

/** Options of `sqsd schedules`. */
export interface SchedulesOptions extends CommandOptions {
  /**
   * `--http [URL]`: read each schedule's last tick from a running daemon's /status.json, at this base URL, or at
   * the config's `http` host and port when given empty. @defaultValue not asked
   */
  readonly http?: string | undefined;
  /** How long to wait for the daemon. @defaultValue `5000` */
  readonly timeoutMs?: number | undefined;
  /** The time the next runs are counted from. @defaultValue now */
  readonly now?: Date | undefined;
}

/** Next runs listed per schedule. */
const NEXT_RUNS = 3;

/**
 * `sqsd schedules`: each configured schedule with its next run times in its own time zone, and, with `--http`,
 * the last tick the daemon saw. Checks the schedules as the daemon does (exit 2 on a config error).
 */
export async function schedulesCommand(options: SchedulesOptions): Promise<number> {
  const context = await openCommandContext(options);
  try {
    const { config, output } = context;
    const queues = await checkSchedules(config.schedules, context.registered, config.configPath);
    const seen =
      options.http === undefined
        ? undefined
        : await daemonSchedules(daemonUrl(options.http, config.http), options.timeoutMs);
    const now = options.now ?? new Date();
    const rows = config.schedules.map((schedule) => {
      const nextRuns = parseCron(schedule.cron, schedule.timezone).next(NEXT_RUNS, now);
      const status = seen?.find((entry) => entry.name === schedule.name);
      return {
        name: schedule.name,
        cron: schedule.cron,
        timezone: schedule.timezone,
        queue: queues.get(schedule.name)?.fullNameFor(schedule.suffix) ?? schedule.queue,
        catchUp: schedule.catchUp,
        nextRuns: nextRuns.map((tick) => formatInZone(tick, schedule.timezone)),
        nextRunsUtc: nextRuns.map((tick) => tick.toISOString()),
        lastTick: status?.lastTick ?? null,
        lastForwardedTick: status?.lastForwardedTick ?? null,
      };
    });
    if (rows.length === 0) output.text("No schedules in the config.");
    else {
      output.text(
        ...table(
          ["SCHEDULE", "CRON", "TIME ZONE", "QUEUE", "NEXT RUNS", ...(seen ? ["LAST TICK"] : [])],
          rows.map((row) => [
            row.name,
            row.cron,
            row.timezone,
            row.queue,
            row.nextRuns.join(", "),
            ...(seen ? [row.lastTick ? formatInZone(new Date(row.lastTick), row.timezone) : "-"] : []),
          ]),
        ),
      );
    }
    output.result({ schedules: rows });
    return 0;
  } finally {
    context.close();
  }
}

/** The daemon's /status.json URL: the one given, or the config's http address. */
function daemonUrl(given: string, http: { readonly host: string; readonly port: number } | undefined): string {
  if (given !== "") return `${given.replace(/\/+$/, "")}/status.json`;
  if (!http) throw new DaemonStatusError("(none)", "--http has no URL and the config has no http section");
  const host = http.host === "0.0.0.0" || http.host === "::" ? "127.0.0.1" : http.host;
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${http.port}/status.json`;
}

async function daemonSchedules(url: string, timeoutMs = 5_000): Promise<ScheduleStatus[]> {
  let body: { schedules?: ScheduleStatus[] };
  try {
    // /status.json answers 503 when queue counts were never read, with the schedules all the same.
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    body = (await response.json()) as { schedules?: ScheduleStatus[] };
  } catch (error) {
    const cause = error instanceof TypeError && error.cause !== undefined ? error.cause : error;
    throw new DaemonStatusError(url, errorSummary(cause), error);
  }
  if (!Array.isArray(body.schedules))
    throw new DaemonStatusError(url, "its status has no schedules (does it run this config?)");
  return body.schedules;
}
