import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveConfig, type ResolveContext } from "../../src/config/resolve.js";
import { ValidationError } from "../../src/errors.js";
import { getRegistry } from "../../src/registry/registry.js";
import { register } from "../../src/registry/receiver.js";
import { checkSchedules } from "../../src/schedules/check.js";
import { tickDeduplicationId } from "../../src/schedules/tick-message.js";
import { z } from "zod";

const context: ResolveContext = { configPath: "/app/sqs.config.ts", env: {}, cores: 4, isTTY: false };

function problemsOf(schedules: unknown): string {
  try {
    resolveConfig({ receivers: ["./r.ts"], schedules }, context);
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    return error.message;
  }
  assert.fail("the config was accepted");
}

describe("schedules config", () => {
  it("fills the defaults: UTC, no catch-up", () => {
    const config = resolveConfig(
      { receivers: ["./r.ts"], schedules: [{ name: "nightly", cron: "0 3 * * *", queue: "reports" }] },
      context,
    );
    assert.deepEqual(config.schedules, [
      {
        name: "nightly",
        cron: "0 3 * * *",
        queue: "reports",
        body: undefined,
        suffix: undefined,
        timezone: "UTC",
        catchUp: "none",
      },
    ]);
  });

  it("names the field and the value of an invalid expression, zone, catch-up or name", () => {
    assert.match(
      problemsOf([{ name: "a", cron: "61 * * * *", queue: "q" }]),
      /schedules\[0\]\.cron is not a valid cron expression: .*minute.*, got "61 \* \* \* \*"/,
    );
    assert.match(
      problemsOf([{ name: "a", cron: "* * *", queue: "q" }]),
      /schedules\[0\]\.cron is not a valid cron expression/,
    );
    assert.match(
      problemsOf([{ name: "a", cron: "* * * * *", queue: "q", timezone: "Mars/Olympus" }]),
      /schedules\[0\]\.timezone must be an IANA time zone name such as Europe\/Berlin, got "Mars\/Olympus"/,
    );
    assert.match(
      problemsOf([{ name: "a", cron: "* * * * *", queue: "q", catchUp: "all" }]),
      /schedules\[0\]\.catchUp must be "none" or "latest", got "all"/,
    );
    assert.match(problemsOf([{ name: "a b", cron: "* * * * *", queue: "q" }]), /schedules\[0\]\.name may only contain/);
    assert.match(problemsOf([{ name: "a", cron: "0 0 30 2 *", queue: "q" }]), /schedules\[0\]\.cron .*never matches/);
    assert.match(
      problemsOf([
        { name: "a", cron: "* * * * *", queue: "q" },
        { name: "a", cron: "* * * * *", queue: "q" },
      ]),
      /schedules\[1\]\.name must be unique among the schedules, got "a"/,
    );
    const many = Array.from({ length: 41 }, (_, index) => ({
      name: `s${index}`,
      cron: "* * * * *",
      queue: "q",
      catchUp: "latest",
    }));
    assert.match(
      problemsOf(many),
      /schedules may have at most 40 schedules with catchUp "latest" \(it has 41\), got 41/,
    );
  });

  it("checks queues, suffixes and fixed bodies against the registry once the receivers are loaded", async () => {
    getRegistry().clear();
    register("reports", undefined, { suffixes: ["eu"], schema: z.object({ day: z.string() }) });
    const registered = getRegistry().list();
    const resolve = (schedules: unknown) => resolveConfig({ receivers: ["./r.ts"], schedules }, context).schedules;
    const queues = await checkSchedules(
      resolve([{ name: "ok", cron: "* * * * *", queue: "reports", suffix: "eu", body: (tick: Date) => tick }]),
      registered,
      "/app/sqs.config.ts",
    );
    assert.equal(queues.get("ok")?.name, "reports");
    await assert.rejects(
      checkSchedules(resolve([{ name: "a", cron: "* * * * *", queue: "nope" }]), registered, "/app/sqs.config.ts"),
      (error: unknown) =>
        error instanceof ValidationError &&
        /schedules\[0\]\.queue must be a registered queue \(reports\), got "nope"/.test(error.message),
    );
    await assert.rejects(
      checkSchedules(resolve([{ name: "a", cron: "* * * * *", queue: "reports", suffix: "us" }]), registered, "x"),
      /schedules\[0\]\.suffix must be one of the suffixes "reports" declares \(eu\), got "us"/,
    );
    const secret = "SENTINEL-body-value";
    await assert.rejects(
      checkSchedules(
        resolve([{ name: "a", cron: "* * * * *", queue: "reports", body: { day: 7, secret } }]),
        registered,
        "x",
      ),
      (error: unknown) =>
        error instanceof ValidationError &&
        /schedules\[0\]\.body must pass the schema of "reports"/.test(error.message) &&
        !error.message.includes(secret),
    );
    getRegistry().clear();
  });

  it("makes deduplication ids within SQS's 128 characters for the longest name", () => {
    const id = tickDeduplicationId("n".repeat(80), new Date("2026-12-31T23:59:59.000Z"));
    assert.ok(id.length <= 128, `${id.length} characters`);
  });
});
