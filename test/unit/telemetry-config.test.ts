import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveConfig } from "../../src/config/resolve.js";
import { ValidationError } from "../../src/errors.js";

describe("telemetry config", () => {
  const context = { configPath: "/app/sqs.config.ts", env: {}, cores: 4, isTTY: false };

  it("resolves telemetry.setup against the config file's folder", () => {
    assert.deepEqual(resolveConfig({ receivers: ["./r.ts"], telemetry: { setup: "./otel.ts" } }, context).telemetry, {
      setup: "/app/otel.ts",
    });
    assert.equal(resolveConfig({ receivers: ["./r.ts"] }, context).telemetry, undefined);
  });

  it("names the field of a missing setup", () => {
    assert.throws(
      () => resolveConfig({ receivers: ["./r.ts"], telemetry: {} }, context),
      (error: unknown) => error instanceof ValidationError && /telemetry\.setup/.test(error.message),
    );
  });
});
