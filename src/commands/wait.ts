import { physicalQueues } from "../admin/physical-queues.js";
import { readQueueStatus } from "../admin/queue-status.js";
import { sleep } from "../util/backoff.js";
import { openCommandContext, type CommandOptions } from "./context.js";

/** Options of `sqsd wait`. */
export interface WaitOptions extends CommandOptions {
  /** Registered names; every registered queue when empty. */
  readonly queues?: readonly string[] | undefined;
  /** Give up (exit 1) after this long. @defaultValue no limit */
  readonly timeoutSeconds?: number | undefined;
  /** Consecutive empty checks needed. SQS's counts are approximate, so one empty reading can be early. @defaultValue `2` */
  readonly cycles?: number | undefined;
  /** @defaultValue `5` */
  readonly intervalSeconds?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * `sqsd wait`: exits 0 once every named queue has been empty (visible, in flight and delayed all 0) for
 * `cycles` checks in a row, and 1 when `timeoutSeconds` passes first. django-sqs's `sqs_wait`, with the
 * overall timeout it lacked.
 */
export async function waitCommand(options: WaitOptions): Promise<number> {
  // The timeout counts from the command's start, on a monotonic clock (a wall-clock step must not end it).
  const startedMs = performance.now();
  const deadlineMs = options.timeoutSeconds === undefined ? Infinity : startedMs + options.timeoutSeconds * 1000;
  const context = await openCommandContext(options);
  try {
    const names = physicalQueues(context.registered, context.config, { names: options.queues }).map(
      (queue) => queue.fullName,
    );
    const cycles = options.cycles ?? 2;
    const intervalMs = (options.intervalSeconds ?? 5) * 1000;
    let emptyChecks = 0;
    let checks = 0;
    for (;;) {
      checks += 1;
      const status = await readQueueStatus(context.client, context.urls, names);
      const busy = status.filter((queue) => queue.visible + queue.inFlight + queue.delayed > 0);
      emptyChecks = busy.length === 0 ? emptyChecks + 1 : 0;
      if (emptyChecks >= cycles) {
        context.output.text(`all ${names.length} queue(s) empty for ${cycles} check(s) in a row`);
        context.output.result({ empty: true, checks, queues: status });
        return 0;
      }
      const remaining = busy.map(
        (queue) => `${queue.name} (${queue.visible} visible, ${queue.inFlight} in flight, ${queue.delayed} delayed)`,
      );
      // Give up only once the deadline has passed (or Ctrl-C), after a last check at the deadline itself. An
      // earlier version gave up as soon as a whole interval no longer fitted before the deadline, so with
      // --timeout-seconds 8 and 5 s checks it stopped after about 5.7 s while saying "timed out after 8 s".
      if (performance.now() >= deadlineMs || options.signal?.aborted) {
        const waitedMs = Math.round(performance.now() - startedMs);
        const why = options.signal?.aborted
          ? `interrupted after ${Math.round(waitedMs / 1000)} s`
          : `timed out after ${options.timeoutSeconds ?? 0} s`;
        context.output.text(`${why}; not empty: ${remaining.join(", ") || "(an empty check was not yet repeated)"}`);
        context.output.result({ empty: false, checks, waitedMs, queues: status });
        return 1;
      }
      context.output.text(busy.length > 0 ? `waiting: ${remaining.join(", ")}` : `empty (${emptyChecks}/${cycles})`);
      await sleepUntil(Math.min(performance.now() + intervalMs, deadlineMs), options.signal);
    }
  } finally {
    context.close();
  }
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Sleeps until `targetMs` on the `performance.now()` clock. A timer can fire a little before its time (Node
 * schedules from the event loop's cached clock), so it sleeps again for whatever is left.
 */
async function sleepUntil(targetMs: number, signal: AbortSignal | undefined): Promise<void> {
  for (let leftMs = targetMs - performance.now(); leftMs > 0 && !signal?.aborted;) {
    // setTimeout takes at most 2^31-1 ms and fires at once past that.
    await sleep(Math.min(leftMs, MAX_TIMER_MS), signal);
    leftMs = targetMs - performance.now();
  }
}
