import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testConfig } from "../helpers/config.js";
import type { SqsdProcess } from "../helpers/daemon.js";
import { Scenario } from "../helpers/scenario.js";

/** Placed in every secret and body below, and looked for in everything the process wrote. */
/**
 * Short, and first in each body: V8's JSON.parse message quotes only about ten characters around the error, and
 * a test must see the sentinel there when the fix is missing.
 */
const SENTINEL = "SNTL5f3a";

/** Everything a finished `sqsd` run wrote, stdout and stderr. */
function everything(result: { stdout: string; stderr: string }): string {
  return `${result.stdout}\n${result.stderr}`;
}

function assertNoSentinel(output: string): void {
  assert.ok(!output.includes(SENTINEL), `the sentinel reached the output:\n${output}`);
}

/**
 * Issue #9: no secret and no part of a message body reaches what sqsd writes. Each case places a sentinel
 * where a secret or personal data would be, and looks for it in the process's whole stdout and stderr, while
 * the output still names the field, the path and the reason.
 */
describe("no secrets or content in logs", () => {
  let scenario: Scenario;
  before(async () => {
    scenario = await Scenario.start();
  });
  after(() => scenario.dispose());

  describe("config errors", () => {
    /** Runs `sqsd --verbose` (stacks too) with this config; checks exit 2 and returns everything it wrote. */
    async function configFailure(config: unknown, name: string): Promise<string> {
      const path = scenario.ws.writeConfig(config, name);
      const result = await scenario.run(["--config", path, "--verbose"]);
      assert.equal(result.code, 2, everything(result));
      return everything(result);
    }

    it("an unknown credentials key: named, its access key and secret not shown", async () => {
      const output = await configFailure(
        testConfig(scenario.sqs, ["ok"], {
          credentials: { accessKeyId: `AKIA${SENTINEL}`, secretAccessKey: `${SENTINEL}/secret` },
        }),
        "credentials.json",
      );
      assertNoSentinel(output);
      assert.match(output, /sqsd: .*credentials is not a known option, got an object \(value not shown\)/);
    });

    it("a misspelt http.tokn: named, the token not shown", async () => {
      const output = await configFailure(
        testConfig(scenario.sqs, ["ok"], { http: { port: 0, tokn: SENTINEL } }),
        "tokn.json",
      );
      assertNoSentinel(output);
      assert.match(output, /sqsd: .*http\.tokn is not a known option, got a string \(value not shown\)/);
    });

    it("a JSON config that does not parse: the line and column, not the text there", async () => {
      const output = await configFailure(`{\n  "http": { "port": 0, "token": ${SENTINEL} }\n}\n`, "broken.json");
      assertNoSentinel(output);
      assert.match(output, /sqsd: config file .*broken\.json is not valid JSON \(SyntaxError at line 2, column 33\)/);
    });
  });

  describe("bodies that do not decode", () => {
    let daemon: SqsdProcess;
    const urls: Record<string, string> = {};
    before(async () => {
      for (const name of ["ok", "contacts", "contacts-valibot", "parses-itself"]) {
        urls[name] = await scenario.sqs.createQueue(name);
      }
      // With a token, which must not reach the log either.
      const configPath = scenario.writeConfig(["ok", "contacts"], { http: { port: 0, token: SENTINEL } }, "run.json");
      daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
    });

    const decodeFailure = (id: string) =>
      daemon.waitForLog((record) => record.messageId === id && record.message === "message could not be decoded");

    it("logs the codec, the reason class and the path, and writes no sentinel up to its exit", async () => {
      const { sqs } = scenario;
      const notJson = await sqs.send(urls["ok"]!, `${SENTINEL} SSN 078-05-1120`);
      const zodFailure = await sqs.send(urls["contacts"]!, JSON.stringify({ email: SENTINEL }));
      const valibotFailure = await sqs.send(urls["contacts-valibot"]!, JSON.stringify({ email: SENTINEL }));
      const ownCodec = await sqs.send(urls["parses-itself"]!, `${SENTINEL} is not JSON`);
      const [notJsonLog, zodLog, valibotLog, ownCodecLog] = await Promise.all(
        [notJson, zodFailure, valibotFailure, ownCodec].map(decodeFailure),
      );
      daemon.kill("SIGTERM");
      assert.equal((await daemon.exited).code, 0, daemon.stderr);
      assertNoSentinel(`${daemon.stdoutLines.join("\n")}\n${daemon.stderr}`);

      assert.equal(notJsonLog?.codec, "json");
      assert.equal(notJsonLog?.error, "MessageDecodeError: the body is not valid JSON (SyntaxError at position 0)");
      assert.match(
        zodLog?.error ?? "",
        /^SchemaValidationError: message .* does not match the schema: custom at \$\.email$/,
      );
      assert.match(valibotLog?.error ?? "", /does not match the schema: email at \$\.email$/);
      assert.equal(ownCodecLog?.codec, "own-json");
      assert.match(ownCodecLog?.error ?? "", /^SyntaxError: the codec or schema threw this error; its message is not/);
    });
  });

  describe("queue commands", () => {
    let configPath: string;
    before(() => {
      configPath = scenario.writeConfig(["ok", "contacts"], { createQueues: false }, "commands.json");
    });

    it("sqsd send: a body that is not JSON, or fails the schema, is refused without echoing it", async () => {
      const notJson = await scenario.run(["--config", configPath, "send", "ok", `${SENTINEL} SSN`, "--verbose"]);
      assertNoSentinel(everything(notJson));
      assert.equal(notJson.code, 2);
      assert.match(notJson.stderr, /the body must be JSON \(SyntaxError at position 0\)/);

      for (const queue of ["contacts", "contacts-valibot"]) {
        const body = JSON.stringify({ email: SENTINEL });
        const invalid = await scenario.run(["--config", configPath, "send", queue, body, "--verbose"]);
        assertNoSentinel(everything(invalid));
        assert.notEqual(invalid.code, 0);
        assert.match(invalid.stderr, /does not match the schema: \w+ at \$\.email/);
      }
    });

    it("sqsd peek: a body its codec cannot decode shows the reason, not the codec's message", async () => {
      const url = await scenario.sqs.createQueue("parses-itself");
      await scenario.sqs.send(url, `${SENTINEL} is not JSON`);
      const result = await scenario.run(["--config", configPath, "peek", "parses-itself", "-n", "1"]);
      assertNoSentinel(everything(result));
      assert.equal(result.code, 0, everything(result));
      assert.match(result.stdout, /\(does not decode: SyntaxError: the codec or schema threw this error/);
    });
  });
});
