import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { drain, type DrainParts } from "../../src/supervisor/drain.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/** Fakes of every part a drain works on, each recording its calls in one ordered list. */
function parts(options: { idleAfter?: ("drain" | "interrupt" | "terminate" | "never")[]; flushThrows?: boolean } = {}) {
  const calls: string[] = [];
  // How each waitUntilIdle call answers, in order: true once handlers are done.
  const idleAnswers = [...(options.idleAfter ?? ["drain"])];
  let waits = 0;
  const drainParts: DrainParts = {
    receivers: {
      stopReceiving: () => void calls.push("stopReceiving"),
      abortReceives: () => void calls.push("abortReceives"),
      receivesUnderWay: () => 1,
      stopped: async () => void calls.push("receiversStopped"),
    },
    scheduler: {
      beginDrain: () => void calls.push("beginDrain"),
      waitUntilIdle: async (timeoutMs) => {
        calls.push(`waitUntilIdle(${timeoutMs})`);
        const phase = ["drain", "interrupt", "terminate"][waits++];
        return idleAnswers.includes(phase as never);
      },
      releaseAll: () => void calls.push("releaseAll"),
      running: 0,
    },
    handlers: { interrupt: () => (calls.push("interrupt"), 2) },
    pool: {
      terminate: async () => void calls.push("terminate"),
      close: async () => void calls.push("close"),
    },
    acks: {
      flush: async (limitMs: number) => {
        calls.push(`flush(${limitMs})`);
        if (options.flushThrows) throw new Error("network gone");
      },
    },
    logger: memoryLogger().logger,
  };
  return { drainParts, calls };
}

const timings = {
  drainTimeoutMs: 30_000,
  abortGraceMs: 2_000,
  waitTimeSeconds: 20,
  drainPolls: "wait",
  flushLimitMs: 5_000,
} as const;

describe("drain phases", () => {
  it("stops receiving and gives back buffered messages first, then waits, then releases, flushes and closes", async () => {
    const { drainParts, calls } = parts();
    const result = await drain(drainParts, timings, "SIGTERM");
    assert.deepEqual(calls, [
      "stopReceiving",
      "beginDrain",
      "waitUntilIdle(30000)",
      "receiversStopped",
      "releaseAll",
      "flush(5000)",
      "close",
    ]);
    assert.equal(result.interrupted, 0);
  });

  it("interrupts handlers past the drain timeout, and ends the threads of those that ignore it", async () => {
    const { drainParts, calls } = parts({ idleAfter: ["terminate"] });
    const result = await drain(drainParts, timings, "SIGTERM");
    assert.deepEqual(calls, [
      "stopReceiving",
      "beginDrain",
      "waitUntilIdle(30000)",
      "interrupt",
      "waitUntilIdle(2000)",
      "terminate",
      "waitUntilIdle(2000)",
      "receiversStopped",
      "releaseAll",
      "flush(5000)",
      "close",
    ]);
    assert.equal(result.interrupted, 2);
  });

  it("does not end threads when interrupted handlers stop within the grace", async () => {
    const { drainParts, calls } = parts({ idleAfter: ["interrupt"] });
    await drain(drainParts, timings, "SIGTERM");
    assert.ok(!calls.includes("terminate"), calls.join(", "));
    assert.ok(calls.includes("interrupt"));
  });

  it("ends the long polls under way right after it stops receiving when drainPolls is abort", async () => {
    const { drainParts, calls } = parts();
    await drain(drainParts, { ...timings, drainPolls: "abort" }, "SIGTERM");
    assert.deepEqual(calls.slice(0, 3), ["stopReceiving", "abortReceives", "beginDrain"]);
  });

  it("still closes the pool when flushing fails", async () => {
    const { drainParts, calls } = parts({ flushThrows: true });
    await drain(drainParts, timings, "SIGTERM");
    assert.deepEqual(calls.slice(-2), ["flush(5000)", "close"]);
  });
});
