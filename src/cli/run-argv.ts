/**
 * Reads the command line of a plain `sqsd run` without yargs. yargs's own modules, and the terminal-width code
 * they load for help text (string-width builds an `Intl.Segmenter` and Unicode-property regular expressions
 * when it loads), cost a starting daemon about 100 ms of CPU, a tenth of its start, and help text a daemon
 * never prints. So `cli.ts` tries this reader first: it accepts only the forms below, exactly as yargs reads
 * them, and leaves everything else (another command, `--help`, `--version`, an unknown or repeated flag, `--`,
 * a value that starts with `-`) to yargs, which reads or refuses it as before.
 *
 *   sqsd [run] [queues..] [--config|-c FILE] [--message-limit N] [--suffix S]... [--embedded] [--verbose]
 *
 * (`--flag value` or `--flag=value` with a value; `--embedded` and `--verbose` take none.)
 */

/** What a `sqsd run` command line says, as yargs would give it to the run command. */
export interface RunArgv {
  readonly config?: string;
  readonly messageLimit?: string;
  readonly suffix?: readonly string[];
  readonly embedded: boolean;
  readonly verbose: boolean;
  readonly queues?: readonly string[];
}

/** The other commands' names (and yargs's own): a command line naming one is yargs's to read. */
const OTHER_COMMANDS = new Set([
  "status",
  "clear",
  "wait",
  "send",
  "init",
  "redrive",
  "peek",
  "schedules",
  "healthcheck",
  "help",
  "completion",
  "run",
]);

/** Flags that take one value each, by how they are written, with the name the run options know them by. */
const VALUE_FLAGS: Readonly<Record<string, "config" | "messageLimit" | "suffix">> = {
  "--config": "config",
  "-c": "config",
  "--message-limit": "messageLimit",
  "--suffix": "suffix",
};

/** Flags without a value. */
const SWITCHES: Readonly<Record<string, "embedded" | "verbose">> = { "--embedded": "embedded", "--verbose": "verbose" };

/** A plain `sqsd run` command line read, or undefined when it is not one this reader is sure of. */
export function readRunArgv(argv: readonly string[]): RunArgv | undefined {
  const tokens = argv[0] === "run" ? argv.slice(1) : [...argv];
  let config: string | undefined;
  let messageLimit: string | undefined;
  const suffix: string[] = [];
  const queues: string[] = [];
  const switches = { embedded: false, verbose: false };
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    if (!token.startsWith("-")) {
      // A command's name where yargs might read it as that command (or a queue so named), or a boolean's value
      // (`--embedded false`): yargs decides.
      if (OTHER_COMMANDS.has(token) || token === "" || token === "true" || token === "false") return undefined;
      queues.push(token);
      continue;
    }
    const switchName = SWITCHES[token];
    if (switchName !== undefined) {
      if (switches[switchName]) return undefined;
      switches[switchName] = true;
      continue;
    }
    const equals = token.indexOf("=");
    const name = VALUE_FLAGS[equals > 0 ? token.slice(0, equals) : token];
    // `-c=FILE` is yargs's short-flag syntax with its own rules: not read here.
    if (name === undefined || (equals > 0 && token.startsWith("-c"))) return undefined;
    let value: string;
    if (equals > 0) {
      value = token.slice(equals + 1);
      // `--suffix=`: yargs refuses some empty values with its own message.
      if (value === "") return undefined;
    } else {
      const next = tokens[index + 1];
      // A missing value, or one that looks like a flag: yargs's reading (and error) applies.
      if (next === undefined || next.startsWith("-")) return undefined;
      value = next;
      index += 1;
    }
    if (name === "suffix") {
      suffix.push(value);
    } else if (name === "config") {
      if (config !== undefined) return undefined;
      config = value;
    } else {
      if (messageLimit !== undefined) return undefined;
      messageLimit = value;
    }
  }
  return {
    ...(config === undefined ? {} : { config }),
    ...(messageLimit === undefined ? {} : { messageLimit }),
    ...(suffix.length === 0 ? {} : { suffix }),
    ...(queues.length === 0 ? {} : { queues }),
    ...switches,
  };
}
