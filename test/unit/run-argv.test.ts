import assert from "node:assert/strict";
import { test } from "node:test";
import yargs from "yargs";
import { runOptions } from "../../src/cli/options.js";
import { readRunArgv, type RunArgv } from "../../src/cli/run-argv.js";

/** What yargs reads from `argv` with cli.ts's global options and run table, in the plain reader's shape. */
async function readWithYargs(argv: readonly string[]): Promise<RunArgv> {
  let read: RunArgv | undefined;
  await yargs([...argv])
    .option("config", { alias: "c", type: "string" })
    .option("verbose", { type: "boolean", default: false })
    .command(
      ["run [queues..]", "$0 [queues..]"],
      "",
      (command) => runOptions(command),
      (args) => {
        const suffix = args.suffix;
        read = {
          ...(args.config === undefined ? {} : { config: args.config }),
          ...(args["message-limit"] === undefined ? {} : { messageLimit: args["message-limit"] }),
          ...(suffix === undefined || suffix.length === 0 ? {} : { suffix }),
          ...(args.queues === undefined || args.queues.length === 0 ? {} : { queues: args.queues }),
          embedded: args.embedded,
          verbose: args.verbose,
        };
      },
    )
    .strict()
    .parseAsync();
  assert.ok(read, `yargs ran no run command for ${argv.join(" ")}`);
  return read;
}

test("a plain sqsd run command line reads as yargs reads it", async () => {
  const lines: string[][] = [
    [],
    ["run"],
    ["--config", "sqs.config.json"],
    ["run", "-c", "app/sqs.config.ts", "emails", "thumbnails"],
    ["--config=x.json", "--message-limit", "5", "--embedded"],
    ["run", "--message-limit=12", "--verbose", "a"],
    ["--suffix", "big", "gamma", "--suffix=small"],
    ["emails", "--embedded", "--config", "c.json", "reports"],
    ["run", "--message-limit", "lots"],
    ["123", "queue.fifo"],
  ];
  for (const argv of lines) {
    const plain = readRunArgv(argv);
    assert.ok(plain, `read ${JSON.stringify(argv)}`);
    assert.deepEqual(plain, await readWithYargs(argv), JSON.stringify(argv));
  }
});

test("anything else is left to yargs", () => {
  const lines: string[][] = [
    ["status"],
    ["run", "status"],
    ["--help"],
    ["run", "--help"],
    ["--version"],
    ["--messageLimit", "5"],
    ["--message-limit", "5", "--message-limit", "6"],
    ["--config", "a", "-c", "b"],
    ["--embedded", "false"],
    ["--no-embedded"],
    ["--suffix"],
    ["--suffix="],
    ["--config="],
    ["--config", "--embedded"],
    ["-c=x.json"],
    ["--", "queue"],
    ["--verbose", "--verbose"],
    ["-x"],
  ];
  for (const argv of lines) assert.equal(readRunArgv(argv), undefined, JSON.stringify(argv));
});
