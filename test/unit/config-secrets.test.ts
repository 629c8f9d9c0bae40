import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveConfig } from "../../src/config/resolve.js";
import { ValidationError } from "../../src/errors.js";

const SENTINEL = "SNTL5f3a";

/** The ValidationError that `input` makes, and its message and everything on it as one text. */
function failureOf(input: unknown): { message: string; everything: string } {
  try {
    resolveConfig(input, { configPath: "/app/sqs.config.ts", env: {}, cores: 4, isTTY: false });
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    return { message: error.message, everything: `${error.stack} ${JSON.stringify(error.problems)}` };
  }
  assert.fail("the config was accepted");
}

/** Config errors name the field and what it must be, and never show a value that may be a secret. */
describe("config errors and secrets", () => {
  it("never shows the value of an unknown key, at the top or nested", () => {
    const { message, everything } = failureOf({
      receivers: ["r.ts"],
      credentials: { accessKeyId: `AKIA${SENTINEL}`, secretAccessKey: SENTINEL },
      http: { port: 9090, tokn: SENTINEL },
    });
    assert.match(message, /credentials is not a known option, got an object \(value not shown\)/);
    assert.match(message, /http\.tokn is not a known option, got a string \(value not shown\)/);
    assert.ok(!everything.includes(SENTINEL), everything);
  });

  it("never shows a token that breaks a rule, and names the rule", () => {
    const { message, everything } = failureOf({ receivers: ["r.ts"], http: { port: 9090, token: [SENTINEL] } });
    assert.match(message, /http\.token must be a non-empty string .*, got an array \(value not shown\)/);
    assert.ok(!everything.includes(SENTINEL), everything);
  });

  it("shows an object or array that fails a rule by its kind only, since it may hold an unknown key", () => {
    const { message, everything } = failureOf({
      receivers: ["r.ts"],
      defaults: { retry: { backoff: "linear", apiKey: SENTINEL } },
    });
    assert.match(message, /defaults\.retry must be false, .*, got an object \(value not shown\)$/);
    assert.ok(!everything.includes(SENTINEL), everything);
  });

  it("still shows plain values of ordinary fields", () => {
    assert.match(failureOf({ receivers: ["r.ts"], pool: { threads: "4" } }).message, /pool\.threads .*, got "4"/);
    assert.match(failureOf({ receivers: [] }).message, /got \[\]/);
  });
});
