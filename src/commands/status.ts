import { physicalQueues } from "../admin/physical-queues.js";
import { readQueueStatus, type QueueStatus } from "../admin/queue-status.js";
import { sleep } from "../util/backoff.js";
import { readDaemonLoad, type DaemonQueueLoad } from "./daemon-load.js";
import { openCommandContext, table, type CommandContext, type CommandOptions } from "./context.js";

/** Options of `sqsd status`. */
export interface StatusOptions extends CommandOptions {
  /** Registered names; every registered queue when empty. */
  readonly queues?: readonly string[] | undefined;
  /** Redraw every `intervalSeconds` until `signal` aborts. @defaultValue `false` */
  readonly watch?: boolean | undefined;
  /** @defaultValue `2` */
  readonly intervalSeconds?: number | undefined;
  /** Ends `--watch` (the CLI aborts it on Ctrl-C). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * `sqsd status`: visible, in-flight and delayed counts of every registered queue under every declared suffix,
 * with each dead-letter queue's depth, as an aligned table in the spirit of django-sqs's `sqs_status`.
 */
export async function statusCommand(options: StatusOptions): Promise<number> {
  const context = await openCommandContext(options);
  try {
    const queues = physicalQueues(context.registered, context.config, { names: options.queues });
    for (;;) {
      const asOf = new Date();
      const [status, daemon] = await Promise.all([
        readQueueStatus(
          context.client,
          context.urls,
          queues.map((queue) => queue.fullName),
        ),
        readDaemonLoad(context.config.http),
      ]);
      render(context, asOf, status, daemon, options.watch === true);
      if (!options.watch || options.signal?.aborted) return 0;
      await sleep((options.intervalSeconds ?? 2) * 1000, options.signal);
      if (options.signal?.aborted) return 0;
    }
  } finally {
    context.close();
  }
}

function render(
  context: CommandContext,
  asOf: Date,
  status: readonly QueueStatus[],
  daemon: ReadonlyMap<string, DaemonQueueLoad> | undefined,
  watching: boolean,
): void {
  const { output, config } = context;
  if (output.json) {
    output.result({
      asOf: asOf.toISOString(),
      region: config.region,
      queuePrefix: config.queuePrefix ?? null,
      queues: status.map((queue) => (daemon ? { ...queue, daemon: daemon.get(queue.name) ?? null } : queue)),
    });
    return;
  }
  // Redraw in place when watching a terminal.
  if (watching && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
  const where = [
    config.queuePrefix ? `prefix ${config.queuePrefix}` : undefined,
    context.settings.endpoint ?? config.region,
  ]
    .filter(Boolean)
    .join(", ");
  // The running daemon's own counts, when its HTTP endpoint answers: what it buffers and runs of each queue.
  const held = (name: string): (string | number)[] => {
    if (!daemon) return [];
    const load = daemon.get(name);
    return load ? [load.buffered, load.running] : ["-", "-"];
  };
  const rows = status.map((queue) =>
    queue.exists
      ? [
          queue.name,
          queue.visible,
          queue.inFlight,
          queue.delayed,
          queue.deadLetter?.name ?? "-",
          queue.deadLetter?.visible ?? "-",
          ...held(queue.name),
        ]
      : [queue.name, "-", "-", "-", "(queue does not exist)", "-", ...held(queue.name)],
  );
  const daemonHeaders = daemon ? ["BUFFERED", "RUNNING"] : [];
  output.text(
    `Active SQS queues (${where}), ${asOf
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, " UTC")}`,
    "",
    ...table(["QUEUE", "VISIBLE", "IN FLIGHT", "DELAYED", "DEAD-LETTER QUEUE", "DEAD LETTERS", ...daemonHeaders], rows),
  );
}
