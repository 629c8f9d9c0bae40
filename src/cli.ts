/**
 * The `sqsd` command line: a yargs command table over plain command functions. This is the only place that
 * parses argv, maps typed errors to exit codes (0 ok, 1 runtime failure, 2 usage or config error) and exits.
 */
import { readFileSync } from "node:fs";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { runCommand } from "./commands/run.js";
import { errorSummary, exitCodeFor, SqsdError, UsageError } from "./errors.js";

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** Parses `argv`, runs the command, and resolves with the exit status. Never calls `process.exit` itself. */
export async function main(argv: readonly string[]): Promise<number> {
  let verbose = argv.includes("--verbose");
  try {
    let exitCode = 0;
    await yargs([...argv])
      .scriptName("sqsd")
      .usage("$0 [run] [queue ...]\n\nRun background jobs from Amazon SQS queues.")
      .option("config", {
        alias: "c",
        type: "string",
        describe: "config file (default: sqs.config.ts, .mts, .js, .mjs or .json in the working directory)",
      })
      .option("verbose", { type: "boolean", default: false, describe: "print stack traces with errors" })
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
        async (args) => {
          verbose = args.verbose;
          const messageLimit = args["message-limit"];
          if (messageLimit !== undefined && (!Number.isInteger(messageLimit) || messageLimit < 1)) {
            throw new UsageError(`--message-limit must be a positive integer, got ${String(messageLimit)}`);
          }
          exitCode = await runCommand({
            configPath: args.config,
            messageLimit,
            suffixes: args.suffix,
            embedded: args.embedded,
            queues: args.queues,
          });
        },
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
