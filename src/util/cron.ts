/**
 * Cron expressions, parsed and evaluated by croner. croner rather than cron-parser: it has no dependencies
 * (cron-parser brings luxon, about 4.5 MiB), it reads 5- and 6-field expressions with one mode switch, it takes
 * IANA zones through Intl and refuses unknown ones, and, with the options below, it applies Vixie cron's daylight-saving rules (a
 * fixed-time job in a skipped hour runs when the hour ends, one in a repeated hour runs once; an interval job
 * keeps its interval in real time). docs/schedules.md compares the libraries.
 */
import { Cron } from "croner";

/** A parsed cron expression in one time zone: computes tick times, never runs anything. */
export interface CronClock {
  /** The expression as written. */
  readonly expression: string;
  /** The IANA time zone it is evaluated in. */
  readonly timezone: string;
  /** The first tick strictly after `after`, or undefined when there is none (a date that never comes). */
  nextAfter(after: Date): Date | undefined;
  /** The last tick at or before `at`, or undefined when there is none. */
  latestAtOrBefore(at: Date): Date | undefined;
  /** The next `count` ticks strictly after `after`. */
  next(count: number, after: Date): Date[];
}

/**
 * Parses `expression` (5 fields, or 6 with seconds first) for evaluation in `timezone`; throws an Error
 * that says what is wrong with the expression or the zone.
 */
export function parseCron(expression: string, timezone: string): CronClock {
  if (!isTimeZone(timezone))
    throw new Error(`unknown time zone "${timezone}" (use an IANA name such as Europe/Berlin)`);
  // paused and without a function, croner only computes: it starts no timer.
  // fixedTimeRule "no-wildcard": a job is fixed-time unless its seconds, minutes or hours hold a wildcard or a
  // step, so `30 2,14 * * *` and `30 1-2 * * *` follow the fixed-time DST rules, as in Vixie cron (croner's
  // default counts only single values). domAndDow false: day-of-month OR day-of-week, as in Vixie cron; croner's
  // default today, stated so that a change of default cannot move ticks. Both change tick times, hence
  // deduplication ids: croner is pinned to an exact version so every replica computes the same ticks.
  const cron = new Cron(expression, {
    paused: true,
    timezone,
    mode: "5-or-6-parts",
    fixedTimeRule: "no-wildcard",
    domAndDow: false,
  });
  return {
    expression,
    timezone,
    nextAfter: (after) => cron.nextRun(after) ?? undefined,
    // croner's reference is exclusive at a whole second, and inclusive of a tick earlier in the same second.
    latestAtOrBefore: (at) => cron.previousRuns(1, new Date(at.getTime() + 1))[0],
    next: (count, after) => cron.nextRuns(count, after),
  };
}

/** Why `expression` in `timezone` cannot be used, or undefined when it can. */
export function cronProblem(expression: string, timezone: string): string | undefined {
  try {
    const clock = parseCron(expression, timezone);
    // An expression that parses but never matches (30 February) would never tick: say so now.
    if (clock.nextAfter(new Date()) === undefined) return "never matches a date";
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.replace(/^CronPattern: /, "") : String(error);
  }
}

/** True for a time zone name Intl knows (IANA names, and "UTC"). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    // Intl throws a RangeError for an unknown zone: that is the answer, not a failure.
    return false;
  }
}

/** `2026-03-29 03:00:00 +02:00`: a time as a clock in `timezone` shows it, with that zone's offset. */
export function formatInZone(date: Date, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "longOffset",
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  ) as Record<string, string>;
  const offset = (parts["timeZoneName"] ?? "GMT").replace(/^GMT/, "") || "+00:00";
  return `${parts["year"]}-${parts["month"]}-${parts["day"]} ${parts["hour"]}:${parts["minute"]}:${parts["second"]} ${offset}`;
}
