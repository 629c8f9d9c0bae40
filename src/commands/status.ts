import { physicalQueues } from "../admin/physical-queues.js";
import { readQueueStatus, type QueueStatus } from "../admin/queue-status.js";
import { sleep } from "../util/backoff.js";
import { UsageError } from "../errors.js";
import { daemonStatusUrl, readDaemonStatus, type DaemonQueueLoad, type DaemonStatus } from "./daemon-load.js";
import { openCommandContext, table, type CommandContext, type CommandOptions } from "./context.js";

/** Options of `sqsd status`. */
export interface StatusOptions extends CommandOptions {
  /** Registered names; every registered queue when empty. */
  readonly queues?: readonly string[] | undefined;
  /** Redraw every `intervalSeconds` until `signal` aborts. @defaultValue `false` */
  readonly watch?: boolean | undefined;
  /** @defaultValue `2` */
  readonly intervalSeconds?: number | undefined;
  /**
   * The running daemon's HTTP endpoint (`--http http://host:port`): its buffered and running counts per queue,
   * and with `watch` its processed rate, come from its `/status.json`. @defaultValue the config's `http`, when
   * it names a fixed port
   */
  readonly httpUrl?: string | undefined;
  /** Ends `--watch` (the CLI aborts it on Ctrl-C). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * `sqsd status`: visible, in-flight and delayed counts of every registered queue under every declared suffix,
 * with each dead-letter queue's depth, as an aligned table in the spirit of django-sqs's `sqs_status`.
 */
export async function statusCommand(options: StatusOptions): Promise<number> {
  const explicitUrl = options.httpUrl === undefined ? undefined : statusJsonUrl(options.httpUrl);
  const context = await openCommandContext(options);
  try {
    const queues = physicalQueues(context.registered, context.config, { names: options.queues });
    const daemonUrl = explicitUrl ?? daemonStatusUrl(context.config.http);
    let previous: { at: number; processed: number } | undefined;
    for (;;) {
      const asOf = new Date();
      const [status, daemon] = await Promise.all([
        readQueueStatus(
          context.client,
          context.urls,
          queues.map((queue) => queue.fullName),
        ),
        daemonUrl === undefined ? undefined : readDaemonStatus(daemonUrl),
      ]);
      // The rate over the last redraw: the daemon counts runs finished since it started.
      let processedPerSecond: number | undefined;
      if (daemon?.processed !== undefined) {
        if (previous && daemon.processed >= previous.processed && asOf.getTime() > previous.at)
          processedPerSecond = (daemon.processed - previous.processed) / ((asOf.getTime() - previous.at) / 1000);
        previous = { at: asOf.getTime(), processed: daemon.processed };
      }
      render(context, asOf, status, daemon, options.watch === true, {
        url: explicitUrl,
        processedPerSecond,
      });
      if (!options.watch || options.signal?.aborted) return 0;
      await sleep((options.intervalSeconds ?? 2) * 1000, options.signal);
      if (options.signal?.aborted) return 0;
    }
  } finally {
    context.close();
  }
}

/** `--http`'s base URL, checked, turned into the daemon's /status.json URL. */
function statusJsonUrl(given: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`--http must be the daemon's URL, such as http://127.0.0.1:8080, got ${given}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--http must be an http:// or https:// URL, got ${given}`);
  return new URL("status.json", url.href.endsWith("/") ? url.href : `${url.href}/`).href;
}

function render(
  context: CommandContext,
  asOf: Date,
  status: readonly QueueStatus[],
  daemonStatus: DaemonStatus | undefined,
  watching: boolean,
  live: { url: string | undefined; processedPerSecond: number | undefined },
): void {
  const { output, config } = context;
  const daemon: ReadonlyMap<string, DaemonQueueLoad> | undefined = daemonStatus?.queues;
  if (output.json) {
    output.result({
      asOf: asOf.toISOString(),
      region: config.region,
      queuePrefix: config.queuePrefix ?? null,
      queues: status.map((queue) => (daemon ? { ...queue, daemon: daemon.get(queue.name) ?? null } : queue)),
      ...(daemonStatus &&
        live.url && {
          daemon: {
            state: daemonStatus.state ?? null,
            processed: daemonStatus.processed ?? null,
            processedPerSecond: live.processedPerSecond ?? null,
          },
        }),
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
  // With --http, a line about the daemon itself, or why there is none.
  const daemonLine = !live.url
    ? undefined
    : !daemonStatus
      ? [`Daemon at ${live.url.replace(/status\.json$/, "")} did not answer`, ""]
      : [
          `Daemon ${daemonStatus.state ?? "?"}, ${daemonStatus.processed ?? "?"} processed` +
            (live.processedPerSecond === undefined ? "" : `, ${live.processedPerSecond.toFixed(1)} msg/s`),
          "",
        ];
  output.text(
    `Active SQS queues (${where}), ${asOf
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, " UTC")}`,
    "",
    ...(daemonLine || []),
    ...table(["QUEUE", "VISIBLE", "IN FLIGHT", "DELAYED", "DEAD-LETTER QUEUE", "DEAD LETTERS", ...daemonHeaders], rows),
  );
}
