import { createLogger as createWinstonLogger, format, transports, type Logger } from "winston";
import type { LogLevel } from "./config/types.js";

export type { Logger } from "winston";

/** winston's npm level values for the levels sqsd writes at: lower is more severe. */
const LEVELS: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 5 };

/** How the daemon logs. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /** `json`: one JSON object a line, for log shippers. `pretty`: aligned, colourless text for people. */
  readonly format: "json" | "pretty";
}

/**
 * The daemon's logger. Everything goes to stdout as structured records (queue, messageId, receiveCount,
 * durationMs, outcome). Message bodies are never logged, at any level: they can hold personal data.
 */
export function createLogger(options: LoggerOptions): Logger {
  // winston runs the whole format chain (timestamp, JSON) for every record and filters by level only in the
  // transport: a debug line per message cost its formatting at every level. Dropping it first costs nothing.
  const threshold = LEVELS[options.level];
  const atLevel = format((info) => ((LEVELS[info.level as LogLevel] ?? 0) <= threshold ? info : false))();
  return createWinstonLogger({
    level: options.level,
    format:
      options.format === "json"
        ? format.combine(atLevel, format.timestamp(), format.errors({ stack: true }), format.json())
        : format.combine(atLevel, format.timestamp(), format.errors({ stack: true }), format.printf(pretty)),
    transports: [new transports.Console({ stderrLevels: [] })],
  });
}

function pretty(info: Record<string, unknown>): string {
  const { level, message, timestamp, stack, ...fields } = info;
  const pairs = Object.entries(fields)
    .filter(([key, value]) => typeof key === "string" && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === "string" ? quoteIfNeeded(value) : JSON.stringify(value)}`);
  const head = `${String(timestamp)} ${String(level).padEnd(5)} ${String(message)}`;
  const line = pairs.length > 0 ? `${head}  ${pairs.join(" ")}` : head;
  return typeof stack === "string" ? `${line}\n${stack}` : line;
}

function quoteIfNeeded(value: string): string {
  return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
}
