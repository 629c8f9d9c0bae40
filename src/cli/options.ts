/**
 * The option tables of the `sqsd` commands: which flags and positionals each command takes, with their help
 * text. cli.ts pairs each with its command function. Numeric options are declared as strings, read by
 * option-values.ts, because yargs turns `--message-limit lots` into NaN and an error must echo what was typed.
 */
import type { Argv } from "yargs";

/** Options every queue command shares. */
function withQueueOptions<T>(command: Argv<T>) {
  return command.option("json", { type: "boolean", default: false, describe: "print JSON for scripts" });
}

/** The options of `sqsd run [queues..]` (also the default command). */
export function runOptions<T>(command: Argv<T>) {
  return (
    command
      .positional("queues", {
        type: "string",
        array: true,
        describe: "registered queue names (default: all with a handler)",
      })
      .option("message-limit", {
        type: "string",
        describe: "exit cleanly after this many messages were processed",
      })
      // One value per flag (repeat the flag for more), so `sqsd --suffix big gamma` reads as django-sqs's
      // `runreceiver [--suffix] [queues]`: suffix "big", queue "gamma".
      .option("suffix", {
        type: "string",
        array: true,
        nargs: 1,
        describe: "consume only this queue-name suffix (repeatable)",
      })
      .option("embedded", { type: "boolean", default: false, describe: "start the embedded local SQS server" })
  );
}

/** The options of `sqsd status [queues..]`. */
export function statusOptions<T>(command: Argv<T>) {
  return withQueueOptions(command)
    .positional("queues", { type: "string", array: true, describe: "registered queue names (default: all)" })
    .option("watch", { type: "boolean", default: false, describe: "redraw until Ctrl-C" })
    .option("interval-seconds", {
      type: "string",
      defaultDescription: "2",
      describe: "redraw interval for --watch",
    })
    .option("http", {
      type: "string",
      describe: "the running daemon's HTTP endpoint (http://host:port): its processed rate, buffered and running",
    });
}

/** The options of `sqsd clear [queues..]`. */
export function clearOptions<T>(command: Argv<T>) {
  return withQueueOptions(command)
    .positional("queues", { type: "string", array: true, describe: "registered queue names (default: all)" })
    .option("purge", { type: "boolean", default: false, describe: "use PurgeQueue (once a minute per queue)" })
    .option("yes", { alias: "y", type: "boolean", default: false, describe: "do not ask for confirmation" });
}

/** The options of `sqsd wait [queues..]`. */
export function waitOptions<T>(command: Argv<T>) {
  return withQueueOptions(command)
    .positional("queues", { type: "string", array: true, describe: "registered queue names (default: all)" })
    .option("timeout-seconds", { type: "string", describe: "give up after this long (default: never)" })
    .option("cycles", { type: "string", defaultDescription: "2", describe: "consecutive empty checks needed" })
    .option("interval-seconds", { type: "string", defaultDescription: "5", describe: "time between checks" });
}

/** The options of `sqsd send <queue> [body]`. */
export function sendOptions<T>(command: Argv<T>) {
  return withQueueOptions(command)
    .positional("queue", { type: "string", demandOption: true })
    .positional("body", { type: "string", describe: "JSON, or text for raw/base64 queues; - for stdin" })
    .option("suffix", { type: "string" })
    .option("delay-seconds", { type: "string" })
    .option("group-id", { type: "string", describe: "FIFO message group" })
    .option("dedup-id", { type: "string", describe: "FIFO deduplication id" })
    .option("attr", { type: "string", array: true, describe: "message attribute key=value (repeatable)" });
}

/** The options of `sqsd init`. */
export function initOptions<T>(command: Argv<T>) {
  return withQueueOptions(command)
    .option("dry-run", {
      type: "boolean",
      default: false,
      describe: "print the plan only",
    })
    .option("create-bucket", {
      type: "boolean",
      default: false,
      describe: "create missing largePayloads S3 buckets (otherwise only checked)",
    })
    .option("create-tables", {
      type: "boolean",
      default: false,
      describe: "create missing idempotency DynamoDB tables, with TTL (otherwise only checked)",
    });
}

/** The options of `sqsd redrive <queue>`. */
export function redriveOptions<T>(command: Argv<T>) {
  return withQueueOptions(command)
    .positional("queue", { type: "string", demandOption: true })
    .option("suffix", { type: "string" })
    .option("max", { type: "string", describe: "move at most this many" })
    .option("max-per-second", { type: "string", describe: "move at most this many a second" });
}

/** The options of `sqsd peek <queue>`. */
export function peekOptions<T>(command: Argv<T>) {
  return withQueueOptions(command)
    .positional("queue", { type: "string", demandOption: true })
    .option("suffix", { type: "string" })
    .option("n", { type: "string", defaultDescription: "10", describe: "how many messages (1..100)" });
}

/** The options of `sqsd schedules`. */
export function schedulesOptions<T>(command: Argv<T>) {
  return withQueueOptions(command).option("http", {
    type: "string",
    describe: "the daemon's base URL (http://host:port); empty: the config's http host and port",
  });
}

/** The options of `sqsd healthcheck`. */
export function healthcheckOptions<T>(command: Argv<T>) {
  return command.option("timeout-seconds", {
    type: "string",
    defaultDescription: "5",
    describe: "give up waiting for the answer after this long",
  });
}
