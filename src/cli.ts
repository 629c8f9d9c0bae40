/**
 * The `sqsd` command line: a yargs command table over plain command functions. This is the only place that
 * parses argv, maps typed errors to exit codes (0 ok, 1 runtime failure, 2 usage or config error) and exits.
 */
import { readFileSync } from "node:fs";
import { errorSummary, exitCodeFor, SqsdError, UsageError } from "./errors.js";
import { oneValue, repeatedValues, wholeNumber } from "./cli/option-values.js";
import { readRunArgv } from "./cli/run-argv.js";
import {
  clearOptions,
  healthcheckOptions,
  initOptions,
  peekOptions,
  redriveOptions,
  runOptions,
  schedulesOptions,
  sendOptions,
  statusOptions,
  waitOptions,
} from "./cli/options.js";

/**
 * A command function whose module is imported when the command runs: `sqsd run` then loads no other
 * command's code (nor `sqsd status` the daemon's), which is start-up time and memory the daemon keeps.
 */
function lazy<O>(load: () => Promise<(options: O) => Promise<number>>): (options: O) => Promise<number> {
  return async (options) => (await load())(options);
}

const runCommand = lazy(async () => (await import("./commands/run.js")).runCommand);
const statusCommand = lazy(async () => (await import("./commands/status.js")).statusCommand);
const clearCommand = lazy(async () => (await import("./commands/clear.js")).clearCommand);
const waitCommand = lazy(async () => (await import("./commands/wait.js")).waitCommand);
const sendCommand = lazy(async () => (await import("./commands/send.js")).sendCommand);
const initCommand = lazy(async () => (await import("./commands/init.js")).initCommand);
const redriveCommand = lazy(async () => (await import("./commands/redrive.js")).redriveCommand);
const peekCommand = lazy(async () => (await import("./commands/peek.js")).peekCommand);
const schedulesCommand = lazy(async () => (await import("./commands/schedules.js")).schedulesCommand);
const healthcheckCommand = lazy(async () => (await import("./commands/healthcheck.js")).healthcheckCommand);

/** The package's version, for `--version`: read only when yargs parses. */
function packageVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return packageJson.version;
}

/** The run command's options from its flags as given (by yargs, or by the plain-run reader). */
function runOptionsFrom(args: {
  readonly config?: string | undefined;
  readonly messageLimit?: string | readonly string[] | undefined;
  readonly suffix?: readonly string[] | undefined;
  readonly embedded?: boolean | undefined;
  readonly queues?: readonly string[] | undefined;
}): Parameters<typeof runCommand>[0] {
  return {
    configPath: args.config,
    messageLimit: wholeNumber("message-limit", args.messageLimit, 1),
    suffixes: repeatedValues("suffix", args.suffix),
    embedded: args.embedded,
    queues: args.queues,
  };
}

/** An AbortSignal that Ctrl-C aborts, for commands that loop (status --watch, wait). */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  return controller.signal;
}

/** Parses `argv`, runs the command, and resolves with the exit status. Never calls `process.exit` itself. */
export async function main(argv: readonly string[]): Promise<number> {
  let verbose = argv.includes("--verbose");
  try {
    // A plain `sqsd run` (what a daemon's start is) without loading yargs: see cli/run-argv.ts.
    const plainRun = readRunArgv(argv);
    if (plainRun) return await runCommand(runOptionsFrom(plainRun));
    return await parseAndRun(argv, (value) => (verbose = value));
  } catch (error) {
    // sqsd's own errors are written to be read as they are; anything else keeps its class name for context.
    const reason = error instanceof SqsdError ? error.message : errorSummary(error);
    process.stderr.write(`sqsd: ${oneLine(reason)}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}

/** Parses `argv` with yargs and runs the command it names; resolves with its exit status, throws its failure. */
async function parseAndRun(argv: readonly string[], setVerbose: (verbose: boolean) => void): Promise<number> {
  const { default: yargs } = await import("yargs");
  let exitCode = 0;
  // A command's own failure is kept apart from yargs's: yargs hands both to fail(), where only the parser's
  // errors (a flag without its value, say) are to become usage errors.
  let commandFailure: { readonly error: unknown } | undefined;
  const run = async (command: Promise<number>): Promise<void> => {
    try {
      exitCode = await command;
    } catch (error) {
      commandFailure = { error };
    }
  };
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
      setVerbose(args.verbose);
    })
    .command(
      ["run [queues..]", "$0 [queues..]"],
      "consume queues until SIGTERM/SIGINT, then drain",
      (command) => runOptions(command),
      (args) => run(runCommand(runOptionsFrom({ ...args, messageLimit: args["message-limit"] }))),
    )
    .command(
      "status [queues..]",
      "show visible, in-flight and delayed counts, and dead-letter depths",
      (command) => statusOptions(command),
      (args) =>
        run(
          statusCommand({
            configPath: args.config,
            json: args.json,
            queues: args.queues,
            watch: args.watch,
            intervalSeconds: wholeNumber("interval-seconds", args["interval-seconds"], 1),
            httpUrl: oneValue("http", args.http),
            signal: args.watch ? interruptSignal() : undefined,
          }),
        ),
    )
    .command(
      "clear [queues..]",
      "delete every message (default: receive and delete; --purge: PurgeQueue)",
      (command) => clearOptions(command),
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
      (command) => waitOptions(command),
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
      (command) => sendOptions(command),
      (args) =>
        run(
          sendCommand({
            configPath: args.config,
            json: args.json,
            queue: args.queue,
            // yargs turns a lone "-" positional into "" (yargs/yargs#1312), so the raw arguments decide.
            body: args.body === "" && argv.includes("-") ? "-" : args.body,
            suffix: oneValue("suffix", args.suffix),
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
      (command) => initOptions(command),
      (args) =>
        run(
          initCommand({
            configPath: args.config,
            json: args.json,
            dryRun: args["dry-run"],
            createBucket: args["create-bucket"],
            createTables: args["create-tables"],
          }),
        ),
    )
    .command(
      "redrive <queue>",
      "move messages from the queue's dead-letter queue back to it",
      (command) => redriveOptions(command),
      (args) =>
        run(
          redriveCommand({
            configPath: args.config,
            json: args.json,
            queue: args.queue,
            suffix: oneValue("suffix", args.suffix),
            max: wholeNumber("max", args.max, 1),
            maxPerSecond: wholeNumber("max-per-second", args["max-per-second"], 1),
          }),
        ),
    )
    .command(
      "peek <queue>",
      "show messages without consuming them (each peek counts as a receive)",
      (command) => peekOptions(command),
      (args) =>
        run(
          peekCommand({
            configPath: args.config,
            json: args.json,
            queue: args.queue,
            suffix: oneValue("suffix", args.suffix),
            count: wholeNumber("n", args.n, 1),
          }),
        ),
    )
    .command(
      "schedules",
      "list the cron schedules with their next 3 run times; with --http, the last tick the daemon saw",
      (command) => schedulesOptions(command),
      (args) => {
        // Empty is allowed here (the config's address), so oneValue() is only asked about a repeated flag.
        const http = args.http === "" ? "" : oneValue("http", args.http);
        return run(schedulesCommand({ configPath: args.config, json: args.json, http }));
      },
    )
    .command(
      "healthcheck",
      "ask the running daemon's GET /healthz (at the config's http host and port): exit 0 healthy, 1 not",
      (command) => healthcheckOptions(command),
      (args) => {
        const timeoutSeconds = wholeNumber("timeout-seconds", args["timeout-seconds"], 1);
        return run(
          healthcheckCommand({
            configPath: args.config,
            timeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
          }),
        );
      },
    )
    .strict()
    .version(packageVersion())
    .help()
    .fail((message, error) => {
      // Here come yargs's validation messages, its parser's errors, and the option checks of cli.ts itself
      // (already usage errors): all of them are mistakes on the command line.
      if (error instanceof SqsdError) throw error;
      throw new UsageError(message ?? errorSummary(error), { cause: error });
    })
    .parseAsync();
  if (commandFailure) throw commandFailure.error;
  return exitCode;
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
  // What yargs's hideBin gives on Node: the arguments after the script's path.
  const exitCode = await main(process.argv.slice(2));
  // Exit explicitly: a stray handle in a user's module (a timer, an open socket) must not keep a stopped
  // daemon alive. stdout and stderr writes to pipes and files are synchronous on POSIX, so no log is lost.
  process.exit(exitCode);
}
