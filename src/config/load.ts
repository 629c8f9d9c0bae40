import { access, readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { ConfigError, errorSummary, SqsdError } from "../errors.js";
import { defaultExport, importUserModule } from "../loader.js";
import { jsonErrorOffset } from "../util/json-syntax.js";
import { resolveConfig } from "./resolve.js";
import type { ResolvedConfig } from "./types.js";
import { cpuBudget } from "../process/cpu-budget.js";

/** File names tried, in order, when no `--config` is given. */
export const CONFIG_FILE_NAMES = [
  "sqs.config.ts",
  "sqs.config.mts",
  "sqs.config.js",
  "sqs.config.mjs",
  "sqs.config.json",
] as const;

const LOADABLE_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json"]);

/** Where to find the config and what else decides it. */
export interface LoadConfigOptions {
  /** `--config`; relative to `cwd`. Left out, the first of {@link CONFIG_FILE_NAMES} in `cwd` is used. */
  readonly configPath?: string | undefined;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `--embedded`. */
  readonly embedded?: boolean;
  readonly isTTY?: boolean;
}

/** Finds, imports, validates and resolves the config file. Every failure is a {@link ConfigError} or a validation error. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const configPath = await findConfigFile(options.configPath, cwd);
  const raw = await readConfigFile(configPath);
  const budget = cpuBudget();
  return resolveConfig(raw, {
    configPath,
    env: options.env ?? process.env,
    cores: budget.cpus,
    coresSource: budget.source,
    isTTY: options.isTTY ?? process.stdout.isTTY === true,
    ...(options.embedded === undefined ? {} : { embedded: options.embedded }),
  });
}

async function findConfigFile(explicit: string | undefined, cwd: string): Promise<string> {
  if (explicit !== undefined) {
    const path = resolve(cwd, explicit);
    if (!(await exists(path))) throw new ConfigError(`config file not found: ${path}`, { file: path });
    if (!LOADABLE_EXTENSIONS.has(extname(path))) {
      throw new ConfigError(`config file ${path} must be .ts, .mts, .js, .mjs or .json`, { file: path });
    }
    return path;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if (await exists(path)) return path;
  }
  throw new ConfigError(`no config file found in ${cwd} (looked for ${CONFIG_FILE_NAMES.join(", ")}); pass --config`);
}

async function readConfigFile(path: string): Promise<unknown> {
  try {
    if (extname(path) === ".json") return parseJsonConfig(path, await readFile(path, "utf8"));
    return defaultExport(await importUserModule(path));
  } catch (error) {
    if (error instanceof SqsdError) throw error;
    throw new ConfigError(`config file ${path} failed to load: ${errorSummary(error)}`, {
      file: path,
      cause: error,
    });
  }
}

/**
 * A JSON config's content. When it is not valid JSON, the error names the line and column, never V8's message,
 * which quotes the text there (a token, say).
 */
function parseJsonConfig(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const offset = jsonErrorOffset(text);
    const where = offset === undefined ? "" : ` at ${lineAndColumn(text, offset)}`;
    throw new ConfigError(`config file ${path} is not valid JSON (SyntaxError${where})`, { file: path });
  }
}

/** `line 3, column 14` (both from 1) of a UTF-16 offset. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new ConfigError(`config file ${path} cannot be read: ${errorSummary(error)}`, { file: path, cause: error });
  }
}
