import { fullQueueName } from "../queue-names.js";

/**
 * The internal FIFO queue every replica offers each schedule tick to (`PREFIX__sqsd-schedules.fifo`). Its
 * deduplication keeps one message per tick; the daemons consume it themselves and forward that message to the
 * schedule's queue. It is never a receiver's queue: no handler runs on it.
 */
export const SCHEDULES_QUEUE_NAME = "sqsd-schedules.fifo";

/**
 * How long a tick message stays hidden while a daemon forwards it: a forward is one send, so 30 s is ample, and
 * a daemon killed mid-forward delays that schedule's ticks by at most this long (a FIFO group waits).
 */
export const SCHEDULES_VISIBILITY_TIMEOUT_SECONDS = 30;

/**
 * A tick message that could not be forwarded for a day is dropped by SQS: a schedule whose target stayed
 * broken that long should not fire a backlog of stale ticks when it is mended.
 */
export const SCHEDULES_RETENTION_SECONDS = 86_400;

/** The forwarder's long poll on the schedules queue: SQS's longest, so an idle daemon costs 3 receives a minute. */
export const SCHEDULES_WAIT_TIME_SECONDS = 20;

/** The schedules queue's full name under a prefix. */
export function schedulesQueueName(prefix: string | undefined): string {
  return fullQueueName({ prefix, name: SCHEDULES_QUEUE_NAME });
}
