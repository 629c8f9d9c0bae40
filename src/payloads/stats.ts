/**
 * Offloaded sends counted in this thread, until the daemon collects them. A handler's sends happen in a pool
 * thread, while /metrics lives in the supervisor: the thread hands the counts over with its next run's
 * outcome (see workers/task-runner.ts), which costs no message of its own. Kept on `globalThis`, like the SQS
 * settings, so that two copies of sqsd in one thread count together.
 */

/** Offloaded sends and the bytes they put in S3. */
export interface PayloadSendCounts {
  readonly count: number;
  readonly bytes: number;
}

const COUNTS_KEY = Symbol.for("sqsd.payloadSendCounts");
type CountsHolder = { [COUNTS_KEY]?: { count: number; bytes: number } };
const holder = globalThis as CountsHolder;

/** Counts one body sent through S3. */
export function countOffloadedSend(bytes: number): void {
  const counts = (holder[COUNTS_KEY] ??= { count: 0, bytes: 0 });
  counts.count += 1;
  counts.bytes += bytes;
}

/** The sends counted since the last call, and resets the count; undefined when there were none. */
export function takeOffloadedSends(): PayloadSendCounts | undefined {
  const counts = holder[COUNTS_KEY];
  if (!counts || counts.count === 0) return undefined;
  holder[COUNTS_KEY] = { count: 0, bytes: 0 };
  return counts;
}
