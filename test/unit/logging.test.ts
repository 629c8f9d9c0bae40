import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, type LoggerOptions } from "../../src/logging.js";

/** The lines a logger writes to stdout while `write` runs. */
function linesOf(options: LoggerOptions, write: (logger: ReturnType<typeof createLogger>) => void): string[] {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string) => lines.push(String(chunk)) > 0;
  try {
    write(createLogger(options));
  } finally {
    process.stdout.write = original;
  }
  return lines;
}

test("json: one line a record, keys sorted at every depth, as winston's json format wrote them", () => {
  const [line, ...rest] = linesOf({ level: "info", format: "json" }, (logger) =>
    logger.info("sqsd started", { threads: 1, queues: ["b", "a"], sizes: { z: 1, a: 2n }, skipped: undefined }),
  );
  assert.equal(rest.length, 0);
  assert.ok(line?.endsWith("}\n"));
  const record = JSON.parse(line!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(record), ["level", "message", "queues", "sizes", "threads", "timestamp"]);
  assert.deepEqual(record["sizes"], { a: "2", z: 1 });
  assert.equal(record["level"], "info");
  assert.ok(!Number.isNaN(Date.parse(String(record["timestamp"]))));
});

test("records below the level are not written, and isLevelEnabled says so", () => {
  const lines = linesOf({ level: "warn", format: "json" }, (logger) => {
    assert.equal(logger.isLevelEnabled("debug"), false);
    assert.equal(logger.isLevelEnabled("error"), true);
    logger.debug("no");
    logger.info("no");
    logger.warn("yes");
    logger.log("error", "yes too", { code: "X" });
  });
  assert.deepEqual(
    lines.map((line) => (JSON.parse(line) as { message: string }).message),
    ["yes", "yes too"],
  );
});

test("a circular field is written, not thrown on; a message field is appended as winston did", () => {
  const cycle: Record<string, unknown> = { name: "a" };
  cycle["self"] = cycle;
  const [line] = linesOf({ level: "debug", format: "json" }, (logger) =>
    logger.debug("first", { cycle, message: "second" }),
  );
  const record = JSON.parse(line!) as { message: string; cycle: unknown };
  assert.equal(record.message, "first second");
  assert.deepEqual(record.cycle, { name: "a", self: "[Circular]" });
});

test("pretty: time, level and message, then the fields as key=value, a stack on the lines after", () => {
  const [line] = linesOf({ level: "info", format: "pretty" }, (logger) =>
    logger.error("handler failed", { queue: "emails", reason: "two words", count: 2, stack: "Error: x\n    at y" }),
  );
  assert.match(
    line!,
    /^\d{4}-\d\d-\d\dT\S+Z error handler failed {2}queue=emails reason="two words" count=2\nError: x\n {4}at y\n$/,
  );
});
