/**
 * The `schedules` option: cron schedules that put one message per tick on a queue, whatever the number of
 * replicas (docs/schedules.md). Its written and resolved types, its validation rules and its defaults live here,
 * apart from the rest of the config, because they are one concept; rules.ts and resolve.ts only call in.
 */
import { z } from "zod";
import { namePartProblem } from "../queue-names.js";
import { cronProblem, isTimeZone } from "../util/cron.js";

/** What happens to ticks that passed while no replica ran. */
export type CatchUp = "none" | "latest";

/**
 * One cron schedule: at each tick, one message on `queue`, sent by exactly one of the replicas running it.
 *
 * @example
 * ```ts
 * schedules: [
 *   { name: "nightly-report", cron: "0 3 * * *", timezone: "Europe/Berlin", queue: "reports" },
 *   { name: "warm-cache", cron: "*\/5 * * * *", queue: "cache", body: (tick) => ({ at: tick.toISOString() }) },
 * ]
 * ```
 */
export interface ScheduleOptions {
  /**
   * Unique among the schedules: letters, digits, `-` and `_`, up to 80 characters. It is the FIFO message group
   * and the start of each tick's deduplication id, so renaming a schedule makes its next tick look new.
   */
  readonly name: string;
  /**
   * A standard 5-field cron expression (`minute hour day-of-month month day-of-week`), or 6 fields with
   * seconds first (`*\/10 * * * * *`), evaluated in `timezone`.
   */
  readonly cron: string;
  /** The registered queue that receives a message at each tick. */
  readonly queue: string;
  /**
   * The message body, or a function of the tick time that returns it; checked by the queue's schema and
   * encoded by its codec like any send. @defaultValue `{ schedule: name, tick: "<tick time, ISO 8601>" }`
   */
  readonly body?: unknown;
  /** Send to the queue's suffixed variant (`name__suffix`); it must be one the receiver declares. @defaultValue none */
  readonly suffix?: string;
  /** IANA time zone the expression is read in; daylight-saving changes follow cron's rules. @defaultValue `"UTC"` */
  readonly timezone?: string;
  /**
   * Ticks missed while no replica ran: `"none"` forgets them; `"latest"` fires the most recent one once at
   * start-up, when it is newer than the last tick forwarded. @defaultValue `"none"`
   */
  readonly catchUp?: CatchUp;
}

/** A schedule with its defaults applied. */
export interface ResolvedSchedule {
  readonly name: string;
  readonly cron: string;
  readonly queue: string;
  /** The body as written: a value, a function of the tick, or undefined for the default body. */
  readonly body: unknown;
  readonly suffix: string | undefined;
  readonly timezone: string;
  readonly catchUp: CatchUp;
}

/** Longest schedule name: a tick's deduplication id (name, `@`, ISO time) stays within SQS's 128 characters. */
export const MAX_SCHEDULE_NAME_LENGTH = 80;

/** Schedules with `catchUp: "latest"` at most: each keeps a tag on the schedules queue, which holds 50. */
export const MAX_CATCH_UP_SCHEDULES = 40;

/** The defaults of a schedule's optional fields, in one place. */
export const SCHEDULE_DEFAULTS = { timezone: "UTC", catchUp: "none" } as const;

const scheduleName = z
  .string({ error: "must be a string" })
  .regex(/^[A-Za-z0-9_-]+$/, { error: "may only contain letters, digits, '-' and '_'" })
  .min(1, { error: "must not be empty" })
  .max(MAX_SCHEDULE_NAME_LENGTH, { error: `must be at most ${MAX_SCHEDULE_NAME_LENGTH} characters` });

const schedule = z
  .strictObject(
    {
      name: scheduleName,
      cron: z.string({ error: "must be a cron expression (a string)" }),
      queue: z
        .string({ error: "must be a registered queue name" })
        .min(1, { error: "must be a registered queue name" }),
      body: z.unknown().optional(),
      suffix: z
        .string({ error: "must be a string" })
        .refine((value) => namePartProblem(value) === undefined, {
          error: "may only contain letters, digits, '-' and '_'",
        })
        .optional(),
      timezone: z.string({ error: "must be an IANA time zone name (a string)" }).optional(),
      catchUp: z.enum(["none", "latest"], { error: 'must be "none" or "latest"' }).optional(),
    },
    { error: "must be { name, cron, queue, body?, suffix?, timezone?, catchUp? }" },
  )
  .superRefine((value, context) => {
    const timezone = value.timezone ?? SCHEDULE_DEFAULTS.timezone;
    if (!isTimeZone(timezone)) {
      context.addIssue({
        code: "custom",
        path: ["timezone"],
        message: "must be an IANA time zone name such as Europe/Berlin",
        input: timezone,
      });
      return;
    }
    const problem = cronProblem(value.cron, timezone);
    if (problem !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["cron"],
        message: `is not a valid cron expression: ${problem}`,
        input: value.cron,
      });
    }
  });

/** Schema of the `schedules` list. Names are unique; queues are checked once the receivers are loaded. */
export const schedulesSchema = z
  .array(schedule, { error: "must be a list of schedules" })
  .superRefine((list, context) => {
    const seen = new Set<string>();
    list.forEach((item, index) => {
      if (seen.has(item.name)) {
        context.addIssue({
          code: "custom",
          path: [index, "name"],
          message: "must be unique among the schedules",
          input: item.name,
        });
      }
      seen.add(item.name);
    });
    const catchingUp = list.filter((item) => item.catchUp === "latest").length;
    if (catchingUp > MAX_CATCH_UP_SCHEDULES) {
      // Each one's last tick is a tag on the schedules queue, and SQS allows 50 tags a queue.
      context.addIssue({
        code: "custom",
        message: `may have at most ${MAX_CATCH_UP_SCHEDULES} schedules with catchUp "latest" (it has ${catchingUp})`,
        input: catchingUp,
      });
    }
  });

/** Fills in each schedule's defaults. */
export function resolveSchedules(written: readonly ScheduleOptions[] | undefined): ResolvedSchedule[] {
  return (written ?? []).map((item) => ({
    name: item.name,
    cron: item.cron,
    queue: item.queue,
    body: item.body,
    suffix: item.suffix,
    timezone: item.timezone ?? SCHEDULE_DEFAULTS.timezone,
    catchUp: item.catchUp ?? SCHEDULE_DEFAULTS.catchUp,
  }));
}
