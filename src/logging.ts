import type { LogLevel } from "./config/types.js";

/**
 * What sqsd's code logs through: a record is a message and flat fields. winston's loggers (an app's, the tests'
 * in-memory one) fit it as they are.
 */
export interface Logger {
  error(message: string, fields?: Record<string, unknown>): unknown;
  warn(message: string, fields?: Record<string, unknown>): unknown;
  info(message: string, fields?: Record<string, unknown>): unknown;
  debug(message: string, fields?: Record<string, unknown>): unknown;
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): unknown;
  /** Whether a record at `level` would be written: a caller skips building fields for one that would not. */
  isLevelEnabled(level: LogLevel): boolean;
}

/** npm's level values for the levels sqsd writes at (winston's): lower is more severe. */
const LEVELS: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 5 };

/** How the daemon logs. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /** `json`: one JSON object a line, for log shippers. `pretty`: aligned, colourless text for people. */
  readonly format: "json" | "pretty";
}

/** Where records go: stdout, one line each (writes to pipes and files are synchronous on POSIX). */
export type LogSink = (line: string) => void;

const stdout: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/**
 * The daemon's logger. Everything goes to stdout as structured records (queue, messageId, receiveCount,
 * durationMs, outcome). Message bodies are never logged, at any level: they can hold personal data.
 *
 * Why not winston, which wrote these records before: with its formats, transports and streams it was some 85
 * modules and about 2 MB of the supervisor's heap, for one line of JSON (or text) a record; the records are
 * the same (the JSON's keys in sorted order, as winston's JSON format wrote them, and its ISO `timestamp`).
 */
export function createLogger(options: LoggerOptions, sink: LogSink = stdout): Logger {
  const threshold = LEVELS[options.level];
  const enabled = (level: LogLevel): boolean => (LEVELS[level] ?? 0) <= threshold;
  const render = options.format === "json" ? json : pretty;
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    // Dropped before anything is built: a debug line per message costs nothing at info.
    if (!enabled(level)) return;
    sink(render({ ...fields, level, message, timestamp: new Date().toISOString() }));
  };
  return {
    error: (message, fields) => log("error", message, fields),
    warn: (message, fields) => log("warn", message, fields),
    info: (message, fields) => log("info", message, fields),
    debug: (message, fields) => log("debug", message, fields),
    log,
    isLevelEnabled: enabled,
  };
}

/** One JSON object, keys sorted; values JSON cannot hold (a bigint, a cycle) are written as text. */
function json(record: Record<string, unknown>): string {
  const sorted = Object.fromEntries(
    Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => [key, record[key]]),
  );
  try {
    return JSON.stringify(sorted, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  } catch {
    return JSON.stringify(
      Object.fromEntries(Object.entries(sorted).map(([key, value]) => [key, plain(value)])),
      (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value),
    );
  }
}

/** A value JSON.stringify refused (a cycle within it), as text. */
function plain(value: unknown): unknown {
  try {
    JSON.stringify(value, (_key, inner: unknown) => (typeof inner === "bigint" ? inner.toString() : inner));
    return value;
  } catch {
    return String(value);
  }
}

function pretty(record: Record<string, unknown>): string {
  const { level, message, timestamp, stack, ...fields } = record;
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === "string" ? quoteIfNeeded(value) : stringify(value)}`);
  const head = `${String(timestamp)} ${String(level).padEnd(5)} ${String(message)}`;
  const line = pairs.length > 0 ? `${head}  ${pairs.join(" ")}` : head;
  return typeof stack === "string" ? `${line}\n${stack}` : line;
}

function stringify(value: unknown): string {
  return JSON.stringify(plain(value), (_key, inner: unknown) => (typeof inner === "bigint" ? inner.toString() : inner));
}

function quoteIfNeeded(value: string): string {
  return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
}
