/**
 * What a replica puts on the schedules queue for one tick, and the ids that make SQS keep one copy of it.
 * Every replica computes the same tick time from its clock, so every replica's message has the same
 * deduplication id, and SQS drops all but the first within its 5-minute window.
 */

/** The body of a tick message, and the default body of the message a schedule sends. */
export interface TickMessage {
  /** The schedule's name. */
  readonly schedule: string;
  /** The tick time, ISO 8601 in UTC (`2026-03-29T01:00:00.000Z`). */
  readonly tick: string;
}

/** `nightly-report@2026-03-29T01:00:00.000Z`: the schedule name and the tick time, within SQS's 128 characters. */
export function tickDeduplicationId(schedule: string, tick: Date): string {
  return `${schedule}@${tick.toISOString()}`;
}

/** The JSON body of a tick message. */
export function encodeTick(schedule: string, tick: Date): string {
  const message: TickMessage = { schedule, tick: tick.toISOString() };
  return JSON.stringify(message);
}

/** Reads a tick message's body; undefined when it is not one (nothing else should be on that queue). */
export function decodeTick(body: string | undefined): { schedule: string; tick: Date } | undefined {
  try {
    const value = JSON.parse(body ?? "") as Partial<Record<keyof TickMessage, unknown>>;
    if (typeof value.schedule !== "string" || typeof value.tick !== "string") return undefined;
    const tick = new Date(value.tick);
    return Number.isNaN(tick.getTime()) ? undefined : { schedule: value.schedule, tick };
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
