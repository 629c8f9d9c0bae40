import type { LogLevel } from "./config/types.js";

/** A log record's structured fields (queue, messageId, receiveCount, durationMs, outcome...). */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * What sqsd logs through. Its shape is the part of winston's logger sqsd uses, so a winston logger (the tests'
 * in-memory one, say) can stand in for it.
 */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** Whether a record at `level` is written: a caller can then skip building fields nobody reads. */
  isLevelEnabled(level: LogLevel): boolean;
}

/** The npm level values (winston's) for the levels sqsd writes at: lower is more severe. */
const LEVELS: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 5 };

/** How the daemon logs. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /** `json`: one JSON object a line, for log shippers. `pretty`: aligned, colourless text for people. */
  readonly format: "json" | "pretty";
}

/**
 * The daemon's logger. Everything goes to stdout as structured records (queue, messageId, receiveCount,
 * durationMs, outcome), one a line. Message bodies are never logged, at any level: they can hold personal data.
 *
 * sqsd's own rather than winston: winston and the modules it loads (logform, colors, readable-stream, async...)
 * cost a starting daemon about 80 modules and 2 MB of heap, for a logger that only ever writes one line a
 * record to stdout. The records are winston's, field for field: `json` writes every field and `level`,
 * `message` and `timestamp` with keys sorted (as winston's json format did), `pretty` the same line as before.
 * Writes to stdout are synchronous for files and pipes on POSIX, so nothing is lost at `process.exit`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LEVELS[options.level];
  const format = options.format === "json" ? json : pretty;
  const isLevelEnabled = (level: LogLevel): boolean => (LEVELS[level] ?? Number.POSITIVE_INFINITY) <= threshold;
  const log = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (!isLevelEnabled(level)) return;
    process.stdout.write(`${format(record(level, message, fields))}\n`);
  };
  return {
    error: (message, fields) => log("error", message, fields),
    warn: (message, fields) => log("warn", message, fields),
    info: (message, fields) => log("info", message, fields),
    debug: (message, fields) => log("debug", message, fields),
    log,
    isLevelEnabled,
  };
}

/**
 * One record as winston built it: the fields, then `level`, `message` and `timestamp` over any fields so
 * named; a `message` field is appended to the message.
 */
function record(level: LogLevel, message: string, fields: LogFields | undefined): Record<string, unknown> {
  const extra = fields?.["message"];
  return {
    ...fields,
    level,
    message:
      extra === undefined || extra === ""
        ? message
        : `${message} ${typeof extra === "string" ? extra : JSON.stringify(extra)}`,
    timestamp: new Date().toISOString(),
  };
}

/** One JSON object, keys sorted at every depth; a bigint as its digits, a circular reference as "[Circular]". */
function json(info: Record<string, unknown>): string {
  const seen = new Set<object>();
  const sorted = (value: unknown): unknown => {
    if (typeof value === "bigint") return value.toString();
    if (value === null || typeof value !== "object") return value;
    // An object with its own toJSON (a Date, a Buffer) is written as it asks.
    const toJSON = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof toJSON === "function") return sorted(toJSON.call(value));
    if (seen.has(value)) return "[Circular]";
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : sorted(item)));
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(value).sort()) copy[key] = sorted((value as Record<string, unknown>)[key]);
      return copy;
    } finally {
      seen.delete(value);
    }
  };
  return JSON.stringify(sorted(info));
}

function pretty(info: Record<string, unknown>): string {
  const { level, message, timestamp, stack, ...fields } = info;
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === "string" ? quoteIfNeeded(value) : JSON.stringify(value)}`);
  const head = `${String(timestamp)} ${String(level).padEnd(5)} ${String(message)}`;
  const line = pairs.length > 0 ? `${head}  ${pairs.join(" ")}` : head;
  return typeof stack === "string" ? `${line}\n${stack}` : line;
}

function quoteIfNeeded(value: string): string {
  return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
}
