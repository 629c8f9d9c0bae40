/**
 * The message a schedule sends for one tick, and its send to the schedule's own queue: the second half of a
 * forward, after the forwarder received the tick from the schedules queue.
 */
import type { ResolvedSchedule } from "../config/schedules.js";
import { sendToQueue } from "../registry/producer.js";
import type { RegisteredQueue } from "../registry/types.js";
import { ScheduleBodyError } from "./errors.js";
import { tickDeduplicationId } from "./tick-message.js";

/**
 * Sends `schedule`'s message for `tick` to `queue`; throws when it could not, or when `signal` aborted first
 * (the forwarder gave the tick up for a retry, so sending it now could send it twice). An abort also ends a
 * send under way, in a request of its own; one SQS already took still lands (at-least-once).
 */
export async function sendScheduleMessage(
  schedule: ResolvedSchedule,
  queue: RegisteredQueue,
  tick: Date,
  signal: AbortSignal,
): Promise<void> {
  const { name } = schedule;
  const body: unknown =
    schedule.body === undefined
      ? { schedule: name, tick: tick.toISOString() }
      : typeof schedule.body === "function"
        ? await bodyFor(name, schedule.body as (tick: Date) => unknown, tick)
        : schedule.body;
  signal.throwIfAborted();
  await sendToQueue(
    queue,
    body,
    {
      ...(schedule.suffix === undefined ? {} : { suffix: schedule.suffix }),
      // A FIFO target deduplicates too: a tick forwarded twice (a daemon dying between send and delete)
      // arrives once within SQS's 5 minutes.
      ...(queue.fifo ? { groupId: name, deduplicationId: tickDeduplicationId(name, tick) } : {}),
    },
    // The send itself is aborted too: a request still on its way when the forward's time runs out must not
    // land after the tick was left for a retry.
    signal,
  );
}

/** Calls a schedule's body function; what it throws becomes a {@link ScheduleBodyError} (a permanent failure). */
async function bodyFor(name: string, body: (tick: Date) => unknown, tick: Date): Promise<unknown> {
  try {
    return await body(tick);
  } catch (error) {
    throw new ScheduleBodyError(name, error);
  }
}
