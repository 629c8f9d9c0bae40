import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../../src/logging.js";

/** A logger whose lines are kept. */
function lines(format: "json" | "pretty", level: "error" | "warn" | "info" | "debug" = "info") {
  const written: string[] = [];
  return { logger: createLogger({ level, format }, (line) => written.push(line)), written };
}

test("json: one object a line, keys sorted as winston's JSON format wrote them, with an ISO timestamp", () => {
  const { logger, written } = lines("json");
  logger.info("sqsd started", { queues: 2, threads: 1, absent: undefined });
  assert.equal(written.length, 1);
  const record = JSON.parse(written[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(record), ["level", "message", "queues", "threads", "timestamp"]);
  assert.equal(record["level"], "info");
  assert.equal(record["message"], "sqsd started");
  assert.equal(new Date(String(record["timestamp"])).toISOString(), record["timestamp"]);
});

test("records below the level are dropped, and isLevelEnabled says so", () => {
  const { logger, written } = lines("json", "warn");
  logger.debug("a");
  logger.info("b");
  logger.log("warn", "c", { queue: "q" });
  logger.error("d");
  assert.deepEqual(
    written.map((line) => (JSON.parse(line) as { message: string }).message),
    ["c", "d"],
  );
  assert.equal(logger.isLevelEnabled("info"), false);
  assert.equal(logger.isLevelEnabled("error"), true);
});

test("a field JSON cannot hold does not lose the record", () => {
  const { logger, written } = lines("json");
  const cycle: Record<string, unknown> = { name: "a" };
  cycle["self"] = cycle;
  logger.warn("odd fields", { big: 10n, cycle, queue: "q" });
  const record = JSON.parse(written[0]!) as Record<string, unknown>;
  assert.equal(record["big"], "10");
  assert.equal(record["queue"], "q");
  assert.equal(typeof record["cycle"], "string");
});

test("pretty: timestamp, level, message, then key=value pairs, quoted where needed, and a stack below", () => {
  const { logger, written } = lines("pretty");
  logger.error("handler failed", { queue: "orders", error: "bad thing", attempts: 2, stack: "Error: x\n    at y" });
  const [line, ...stack] = written[0]!.split("\n");
  assert.match(line!, /^\d{4}-\d\d-\d\dT\S+Z error handler failed {2}queue=orders error="bad thing" attempts=2$/);
  assert.deepEqual(stack, ["Error: x", "    at y"]);
});
