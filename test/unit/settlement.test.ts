import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TaskNotStartedError } from "../../src/pool-errors.js";
import type { Outcome } from "../../src/pool/protocol.js";
import { settle, type RunEnd, type SettleContext } from "../../src/supervisor/settlement.js";

const context = (overrides: Partial<SettleContext> = {}): SettleContext => ({
  options: {},
  defaultRetry: false,
  receiveCount: 1,
  timedOut: false,
  interrupting: false,
  ...overrides,
});

const error = { name: "TypeError", message: "boom", stack: "TypeError: boom\n    at handler", code: undefined };
const ok: Outcome = { kind: "ok", durationMs: 12 };
const failed: Outcome = { kind: "failed", phase: "handler", error, durationMs: 3 };
const decodeFailed: Outcome = { kind: "failed", phase: "decode", error, durationMs: 0, codec: "json" };
const crashed: RunEnd = { kind: "crashed", error: new Error("worker exited with code 1") };

/** The delivery contract, decided in one pure function: only success deletes, unless the user chose otherwise. */
describe("settling a finished run", () => {
  it("deletes on success, counts it and logs it at debug only", () => {
    const settlement = settle(ok, context());
    assert.deepEqual(settlement.action, { kind: "delete" });
    assert.equal(settlement.settledAs, "ok");
    assert.equal(settlement.counted, true);
    assert.equal(settlement.durationMs, 12);
    assert.deepEqual(
      settlement.logs.map((line) => line.level),
      ["debug"],
    );
  });

  it("does not delete twice what deleteOnStart already deleted", () => {
    assert.deepEqual(settle(ok, context({ options: { deleteOnStart: true } })).action, { kind: "leave" });
  });

  it("leaves a failed message for redelivery after its visibility timeout by default", () => {
    const settlement = settle(failed, context());
    assert.deepEqual(settlement.action, { kind: "leave" });
    assert.equal(settlement.settledAs, "failed");
    assert.equal(settlement.phase, "handler");
    assert.equal(settlement.counted, true);
    const [line] = settlement.logs;
    assert.equal(line?.level, "error");
    assert.equal(line?.fields["error"], "TypeError: boom");
    assert.equal(line?.fields["stack"], error.stack);
  });

  it("applies the queue's retry backoff by receive count, else the config default", () => {
    const retry = { backoff: "exponential", baseSeconds: 5, maxSeconds: 60 } as const;
    assert.deepEqual(settle(failed, context({ options: { retry }, receiveCount: 3 })).action, {
      kind: "changeVisibility",
      seconds: 20,
    });
    assert.deepEqual(settle(failed, context({ defaultRetry: [7, 70], receiveCount: 2 })).action, {
      kind: "changeVisibility",
      seconds: 70,
    });
    assert.deepEqual(settle(failed, context({ options: { retry: false }, defaultRetry: [7] })).action, {
      kind: "leave",
    });
  });

  it("never deletes a message whose S3 body could not be read or was refused, or whose MD5 differs, whatever onError says", () => {
    const retry: readonly number[] = [5];
    for (const code of ["SQSD_PAYLOAD_FETCH", "SQSD_PAYLOAD_MISSING", "SQSD_PAYLOAD_REFUSED"]) {
      const end: Outcome = { ...decodeFailed, error: { ...error, name: "PayloadFetchError", code } };
      assert.deepEqual(settle(end, context({ options: { onError: "delete" } })).action, { kind: "leave" }, code);
      assert.deepEqual(
        settle(end, context({ options: { onError: "delete", retry } })).action,
        { kind: "changeVisibility", seconds: 5 },
        code,
      );
      assert.equal(settle(end, context({ options: { onError: "delete" } })).phase, "decode");
    }
    // A body whose MD5 does not match what SQS sent was changed on the way: nobody has seen the real one.
    const mismatch: Outcome = {
      ...decodeFailed,
      error: { ...error, name: "BodyChecksumError", code: "SQSD_BODY_MD5_MISMATCH" },
    };
    assert.deepEqual(settle(mismatch, context({ options: { onError: "delete" } })).action, { kind: "leave" });
    // Any other decode failure is about the message: onError "delete" still deletes it.
    assert.deepEqual(settle(decodeFailed, context({ options: { onError: "delete" } })).action, { kind: "delete" });
  });

  it('deletes a failure only when the queue chose onError: "delete"', () => {
    assert.deepEqual(settle(failed, context({ options: { onError: "delete" } })).action, { kind: "delete" });
    assert.deepEqual(settle(crashed, context({ options: { onError: "delete" } })).action, { kind: "delete" });
    assert.deepEqual(settle(crashed, context()).action, { kind: "leave" });
  });

  it("logs a decode failure with its codec and without a stack (nor, ever, the body)", () => {
    const [line] = settle(decodeFailed, context()).logs;
    assert.equal(line?.message, "message could not be decoded");
    assert.equal(line?.fields["codec"], "json");
    assert.equal(line?.fields["stack"], undefined);
  });

  it("treats a thread that died as a failure of phase crash, or timeout when it had timed out", () => {
    const settlement = settle(crashed, context());
    assert.equal(settlement.settledAs, "failed");
    assert.equal(settlement.phase, "crash");
    assert.equal(settlement.logs[0]?.message, "handler thread died");
    assert.equal(settle(crashed, context({ timedOut: true })).phase, "timeout");
    assert.equal(settle(failed, context({ timedOut: true })).phase, "timeout");
  });

  it("hands an interrupted run's message straight back, uncounted; a success still deletes", () => {
    for (const end of [failed, crashed]) {
      const settlement = settle(end, context({ interrupting: true, options: { onError: "delete" } }));
      assert.deepEqual(settlement.action, { kind: "release" });
      assert.equal(settlement.settledAs, "interrupted");
      assert.equal(settlement.counted, false);
    }
    assert.deepEqual(settle(ok, context({ interrupting: true })).action, { kind: "delete" });
  });

  it("releases, uncounted, a message whose task never started on its thread", () => {
    const end: RunEnd = { kind: "crashed", error: new TaskNotStartedError(new Error("worker exited")) };
    for (const interrupting of [false, true]) {
      const settlement = settle(end, context({ interrupting, options: { onError: "delete" } }));
      assert.deepEqual(settlement.action, { kind: "release" }, "never deleted, whatever onError says");
      assert.equal(settlement.settledAs, "notStarted");
      assert.equal(settlement.counted, false);
      assert.equal(settlement.logs[0]?.level, "warn");
      assert.equal(
        settlement.logs[0]?.message,
        "message given back unstarted: its thread ended before the handler began",
      );
    }
  });

  it("releases, uncounted, a message whose task landed on a thread that could not load the receivers", () => {
    const end: RunEnd = {
      kind: "crashed",
      error: new TaskNotStartedError(new Error("this pool thread could not load the receiver modules"), "threadBroken"),
    };
    const settlement = settle(end, context());
    assert.deepEqual(settlement.action, { kind: "release" });
    assert.equal(settlement.settledAs, "notStarted");
    assert.equal(settlement.counted, false);
    assert.equal(
      settlement.logs[0]?.message,
      "message given back unstarted: its thread could not load the receiver modules",
    );
    const withDeleteOnStart = settle(end, context({ options: { deleteOnStart: true } }));
    assert.deepEqual(withDeleteOnStart.action, { kind: "leave" }, "already deleted: nothing to release");
    assert.equal(withDeleteOnStart.logs[0]?.level, "error", "a message deleted on start and never run is lost");
  });

  it("makes RestartLater's message visible after its delay, or leaves it to its visibility timeout", () => {
    const later = (delaySeconds: number | undefined): Outcome => ({
      kind: "restartLater",
      delaySeconds,
      reason: "not yet",
      durationMs: 1,
    });
    assert.deepEqual(settle(later(30), context()).action, { kind: "changeVisibility", seconds: 30 });
    assert.deepEqual(settle(later(undefined), context()).action, { kind: "leave" });
    const withDeleteOnStart = settle(later(30), context({ options: { deleteOnStart: true } }));
    assert.deepEqual(withDeleteOnStart.action, { kind: "leave" });
    assert.deepEqual(
      withDeleteOnStart.logs.map((line) => line.level),
      ["info", "warn"],
    );
  });
});
