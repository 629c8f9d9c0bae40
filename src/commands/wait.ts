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
  const context = await openCommandContext(options);
  try {
    const names = physicalQueues(context.registered, context.config, { names: options.queues }).map(
      (queue) => queue.fullName,
    );
    const cycles = options.cycles ?? 2;
    const deadline = options.timeoutSeconds === undefined ? Infinity : Date.now() + options.timeoutSeconds * 1000;
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
      const waitMs = (options.intervalSeconds ?? 5) * 1000;
      if (Date.now() + waitMs > deadline || options.signal?.aborted) {
        context.output.text(
          `timed out after ${options.timeoutSeconds ?? 0} s; not empty: ${remaining.join(", ") || "(an empty check was not yet repeated)"}`,
        );
        context.output.result({ empty: false, checks, queues: status });
        return 1;
      }
      context.output.text(busy.length > 0 ? `waiting: ${remaining.join(", ")}` : `empty (${emptyChecks}/${cycles})`);
      await sleep(waitMs, options.signal);
    }
  } finally {
    context.close();
  }
}
