import { Writable } from "node:stream";
import { createLogger, format, transports, type Logger } from "winston";
import type { LogRecord } from "./daemon.js";

/** A winston logger that keeps its records in memory, for in-process tests of supervisor parts. */
export function memoryLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: LogRecord, _encoding, done) {
      records.push(info);
      done();
    },
  });
  const logger = createLogger({
    level: "debug",
    format: format.json(),
    transports: [new transports.Stream({ stream })],
  });
  return { logger, records };
}
