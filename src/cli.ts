/**
 * The `sqsd` command line: a yargs command table over plain command functions. This is the only place that
 * parses argv, maps typed errors to exit codes (0 ok, 1 runtime failure, 2 usage or config error) and exits.
 */
import { readFileSync } from "node:fs";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { clearCommand } from "./commands/clear.js";
import { initCommand } from "./commands/init.js";
import { peekCommand } from "./commands/peek.js";
import { redriveCommand } from "./commands/redrive.js";
import { runCommand } from "./commands/run.js";
import { sendCommand } from "./commands/send.js";
import { statusCommand } from "./commands/status.js";
import { waitCommand } from "./commands/wait.js";
import { errorSummary, exitCodeFor, SqsdError, UsageError } from "./errors.js";

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** Checks that a numeric option is a whole number in range. */
function wholeNumber(name: string, value: number | undefined, min: number): number | undefined {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw new UsageError(`--${name} must be an integer of at least ${min}, got ${String(value)}`);
  }
  return value;
}

/** An AbortSignal that Ctrl-C aborts, for commands that loop (status --watch, wait). */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  return controller.signal;
}

/** Options every queue command shares. */
function withQueueOptions<T>(command: Argv<T>) {
  return command.option("json", { type: "boolean", default: false, describe: "print JSON for scripts" });
}

/** Parses `argv`, runs the command, and resolves with the exit status. Never calls `process.exit` itself. */
export async function main(argv: readonly string[]): Promise<number> {
  let verbose = argv.includes("--verbose");
  let exitCode = 0;
  const run = async (command: Promise<number>): Promise<void> => {
    exitCode = await command;
  };
  try {
    await yargs([...argv])
      .scriptName("sqsd")
      .usage("$0 <command> [options]\n\nRun background jobs from Amazon SQS queues, and operate the queues.")
      .option("config", {
        alias: "c",
        type: "string",
        describe: "config file (default: sqs.config.ts, .mts, .js, .mjs or .json in the working directory)",
      })
      .option("verbose", { type: "boolean", default: false, describe: "print stack traces with errors" })
      .middleware((args) => {
        verbose = args.verbose;
      })
      .command(
        ["run [queues..]", "$0 [queues..]"],
        "consume queues until SIGTERM/SIGINT, then drain",
        (command) =>
          command
            .positional("queues", {
              type: "string",
              array: true,
              describe: "registered queue names (default: all with a handler)",
            })
            .option("message-limit", {
              type: "number",
              describe: "exit cleanly after this many messages were processed",
            })
            .option("suffix", { type: "string", array: true, describe: "consume only these queue-name suffixes" })
            .option("embedded", { type: "boolean", default: false, describe: "start the embedded local SQS server" }),
        (args) =>
          run(
            runCommand({
              configPath: args.config,
              messageLimit: wholeNumber("message-limit", args["message-limit"], 1),
              suffixes: args.suffix,
              embedded: args.embedded,
              queues: args.queues,
            }),
          ),
      )
      .command(
        "status [queues..]",
        "show visible, in-flight and delayed counts, and dead-letter depths",
        (command) =>
          withQueueOptions(command)
            .positional("queues", { type: "string", array: true, describe: "registered queue names (default: all)" })
            .option("watch", { type: "boolean", default: false, describe: "redraw until Ctrl-C" })
            .option("interval-seconds", { type: "number", default: 2, describe: "redraw interval for --watch" }),
        (args) =>
          run(
            statusCommand({
              configPath: args.config,
              json: args.json,
              queues: args.queues,
              watch: args.watch,
              intervalSeconds: wholeNumber("interval-seconds", args["interval-seconds"], 1),
              signal: args.watch ? interruptSignal() : undefined,
            }),
          ),
      )
      .command(
        "clear [queues..]",
        "delete every message (default: receive and delete; --purge: PurgeQueue)",
        (command) =>
          withQueueOptions(command)
            .positional("queues", { type: "string", array: true, describe: "registered queue names (default: all)" })
            .option("purge", { type: "boolean", default: false, describe: "use PurgeQueue (once a minute per queue)" })
            .option("yes", { alias: "y", type: "boolean", default: false, describe: "do not ask for confirmation" }),
        (args) =>
          run(
            clearCommand({
              configPath: args.config,
              json: args.json,
              queues: args.queues,
              purge: args.purge,
              yes: args.yes,
            }),
          ),
      )
      .command(
        "wait [queues..]",
        "wait until queues are empty (exit 0), or the timeout passes (exit 1)",
        (command) =>
          withQueueOptions(command)
            .positional("queues", { type: "string", array: true, describe: "registered queue names (default: all)" })
            .option("timeout-seconds", { type: "number", describe: "give up after this long (default: never)" })
            .option("cycles", { type: "number", default: 2, describe: "consecutive empty checks needed" })
            .option("interval-seconds", { type: "number", default: 5, describe: "time between checks" }),
        (args) =>
          run(
            waitCommand({
              configPath: args.config,
              json: args.json,
              queues: args.queues,
              timeoutSeconds: wholeNumber("timeout-seconds", args["timeout-seconds"], 0),
              cycles: wholeNumber("cycles", args.cycles, 1),
              intervalSeconds: wholeNumber("interval-seconds", args["interval-seconds"], 1),
              signal: interruptSignal(),
            }),
          ),
      )
      .command(
        "send <queue> [body]",
        "send one message through the queue's codec (body from stdin with - or when left out)",
        (command) =>
          withQueueOptions(command)
            .positional("queue", { type: "string", demandOption: true })
            .positional("body", { type: "string", describe: "JSON, or text for raw/base64 queues; - for stdin" })
            .option("suffix", { type: "string" })
            .option("delay-seconds", { type: "number" })
            .option("group-id", { type: "string", describe: "FIFO message group" })
            .option("dedup-id", { type: "string", describe: "FIFO deduplication id" })
            .option("attr", { type: "string", array: true, describe: "message attribute key=value (repeatable)" }),
        (args) =>
          run(
            sendCommand({
              configPath: args.config,
              json: args.json,
              queue: args.queue,
              // yargs turns a lone "-" positional into "" (yargs/yargs#1312), so the raw arguments decide.
              body: args.body === "" && argv.includes("-") ? "-" : args.body,
              suffix: args.suffix,
              delaySeconds: wholeNumber("delay-seconds", args["delay-seconds"], 0),
              groupId: args["group-id"],
              dedupId: args["dedup-id"],
              attributes: args.attr,
            }),
          ),
      )
      .command(
        "init",
        "create missing queues and dead-letter queues; report and fix attribute drift",
        (command) =>
          withQueueOptions(command).option("dry-run", {
            type: "boolean",
            default: false,
            describe: "print the plan only",
          }),
        (args) => run(initCommand({ configPath: args.config, json: args.json, dryRun: args["dry-run"] })),
      )
      .command(
        "redrive <queue>",
        "move messages from the queue's dead-letter queue back to it",
        (command) =>
          withQueueOptions(command)
            .positional("queue", { type: "string", demandOption: true })
            .option("suffix", { type: "string" })
            .option("max", { type: "number", describe: "move at most this many" })
            .option("max-per-second", { type: "number", describe: "move at most this many a second" }),
        (args) =>
          run(
            redriveCommand({
              configPath: args.config,
              json: args.json,
              queue: args.queue,
              suffix: args.suffix,
              max: wholeNumber("max", args.max, 1),
              maxPerSecond: wholeNumber("max-per-second", args["max-per-second"], 1),
            }),
          ),
      )
      .command(
        "peek <queue>",
        "show messages without consuming them (each peek counts as a receive)",
        (command) =>
          withQueueOptions(command)
            .positional("queue", { type: "string", demandOption: true })
            .option("suffix", { type: "string" })
            .option("n", { type: "number", default: 10, describe: "how many messages (1..100)" }),
        (args) =>
          run(
            peekCommand({
              configPath: args.config,
              json: args.json,
              queue: args.queue,
              suffix: args.suffix,
              count: args.n,
            }),
          ),
      )
      .strict()
      .version(packageJson.version)
      .help()
      .fail((message, error) => {
        throw error ?? new UsageError(message);
      })
      .parseAsync();
    return exitCode;
  } catch (error) {
    // sqsd's own errors are written to be read as they are; anything else keeps its class name for context.
    const reason = error instanceof SqsdError ? error.message : errorSummary(error);
    process.stderr.write(`sqsd: ${oneLine(reason)}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}

/** Error messages (esbuild's among them) can span lines; the CLI promises one line. */
function oneLine(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
}

/** Entry point used by `bin/sqsd.js`. */
export async function runCli(): Promise<void> {
  const exitCode = await main(hideBin(process.argv));
  // Exit explicitly: a stray handle in a user's module (a timer, an open socket) must not keep a stopped
  // daemon alive. stdout and stderr writes to pipes and files are synchronous on POSIX, so no log is lost.
  process.exit(exitCode);
}
