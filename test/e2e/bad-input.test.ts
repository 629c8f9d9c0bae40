import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testConfig } from "../helpers/config.js";
import { runSqsd } from "../helpers/daemon.js";
import { sqsServers, TestSqs } from "../helpers/local-sqs.js";
import { Workspace } from "../helpers/workspace.js";

/** Runs sqsd and checks the exit code and that stderr's last line is one `sqsd: ...` line matching `reason`. */
async function expectFailureOn(
  sqs: TestSqs,
  ws: Workspace,
  args: string[],
  code: number,
  reason: RegExp,
): Promise<string> {
  const result = await runSqsd(args, { env: { ...sqs.env, ...ws.env }, cwd: ws.dir });
  assert.equal(result.code, code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const line = result.stderr.split("\n").find((text) => text.startsWith("sqsd: "));
  assert.ok(line, `no "sqsd: " line in stderr: ${result.stderr}`);
  assert.match(line, reason);
  assert.ok(!result.stderr.includes("    at "), `a stack trace was printed without --verbose: ${result.stderr}`);
  return line;
}

/** Bad input stops the daemon before it touches a message, with one line that says what and where. */
describe("bad input", () => {
  let sqs: TestSqs;
  let ws: Workspace;
  before(async () => {
    sqs = await TestSqs.start();
    ws = new Workspace();
  });
  after(async () => {
    await sqs.stop();
    ws.remove();
  });

  const expectFailure = (args: string[], code: number, reason: RegExp): Promise<string> =>
    expectFailureOn(sqs, ws, args, code, reason);

  it("a missing config file: exit 2, naming the path", async () => {
    await expectFailure(["--config", "missing.config.ts"], 2, /config file not found: .*missing\.config\.ts/);
  });

  it("no config file in the working directory: exit 2", async () => {
    await expectFailure([], 2, /no config file found in .* \(looked for sqs\.config\.ts/);
  });

  it("a config with a syntax error: exit 2, naming the file and the line", async () => {
    const path = ws.writeConfig('export default { receivers: ["./r.ts"], ', "broken.config.ts");
    const line = await expectFailure(["--config", path], 2, /config file .*broken\.config\.ts failed to load/);
    assert.match(line, /broken\.config\.ts:1:/);
  });

  it("an invalid field: exit 2, naming the field path and the value", async () => {
    const path = ws.writeConfig(
      testConfig(sqs, ["ok"], { defaults: { visibilityTimeoutSeconds: -5 } }),
      "invalid-field.json",
    );
    await expectFailure(
      ["--config", path],
      2,
      /defaults\.visibilityTimeoutSeconds must be an integer 0\.\.43200, got -5/,
    );
  });

  it("a receiver module that throws on import: exit 2, naming the module", async () => {
    const path = ws.writeConfig(testConfig(sqs, ["throws-on-import"]), "throws-on-import.json");
    await expectFailure(
      ["--config", path],
      2,
      /receiver module .*throws-on-import\.ts failed to load: cannot connect to the database at import time/,
    );
  });

  it("a receiver module with a syntax error: exit 2, naming the module", async () => {
    const module = ws.writeFile(
      "syntax-error.ts",
      'import { receiver } from "sqsd";\nreceiver("x", async () => { const = ; });\n',
    );
    const path = ws.writeConfig({ ...testConfig(sqs, []), receivers: [module] }, "syntax-error.json");
    await expectFailure(
      ["--config", path],
      2,
      /receiver module .*syntax-error\.ts failed to load: .*syntax-error\.ts:2:/,
    );
  });

  it("a receivers glob that matches nothing: exit 2, naming the pattern", async () => {
    const path = ws.writeConfig({ ...testConfig(sqs, []), receivers: ["./nothing/*.ts"] }, "no-match.json");
    await expectFailure(["--config", path], 2, /receivers\[0\] matches no file: .*nothing\/\*\.ts/);
  });

  it("an unknown queue on the command line: exit 2, listing the known ones", async () => {
    const path = ws.writeConfig(testConfig(sqs, ["ok", "also-ok"]), "unknown-queue.json");
    await expectFailure(["--config", path, "nope"], 2, /unknown queue "nope" \(registered queues: ok, alsoOk\)/);
  });

  it("a send-only queue on the command line: exit 2", async () => {
    const path = ws.writeConfig(testConfig(sqs, ["ok", "send-only"]), "send-only.json");
    await expectFailure(["--config", path, "outbox"], 2, /queue "outbox" is send-only/);
  });

  it("a bad --message-limit or an unknown flag: exit 2", async () => {
    const path = ws.writeConfig(testConfig(sqs, ["ok"]), "flags.json");
    await expectFailure(
      ["--config", path, "--message-limit", "0"],
      2,
      /--message-limit must be an integer of at least 1, got 0/,
    );
    await expectFailure(["--config", path, "--mesage-limit", "3"], 2, /Unknown argument/i);
    // The value as given, not what a number parse made of it.
    await expectFailure(
      ["--config", path, "--message-limit", "lots"],
      2,
      /--message-limit must be an integer of at least 1, got lots$/,
    );
    await expectFailure(["--config", path, "--message-limit", "2.5"], 2, /got 2\.5$/);
    await expectFailure(["--config", path, "--message-limit"], 2, /--message-limit needs a value/);
    await expectFailure(
      ["--config", path, "status", "--interval-seconds", "soon"],
      2,
      /--interval-seconds .* got soon$/,
    );
    await expectFailure(
      ["--config", path, "peek", "ok", "-n", "many"],
      2,
      /-n must be an integer of at least 1, got many$/,
    );
  });

  it("a receiver module that loads in the supervisor but not in pool threads: exit 1", async () => {
    const path = ws.writeConfig(testConfig(sqs, ["breaks-in-threads"]), "breaks-in-threads.json");
    await expectFailure(
      ["--config", path],
      1,
      /pool thread could not load the receiver modules: .*cannot load in a worker thread/,
    );
  });

  it("a temporary directory it cannot write, with a TypeScript config: exit 2 naming it, never a hang", async () => {
    // /proc/sys cannot be written even by root: tsx would wait forever to create its cache there. The enum
    // makes the config need tsx where Node strips types itself (erasable TypeScript never meets tsx there).
    const config = ws.writeConfig(
      'enum Mode { Idle }\nexport default { receivers: ["./nothing/*.ts"], stallSeconds: 60 + Mode.Idle };\n',
      "tmp.config.ts",
    );
    const result = await runSqsd(["--config", config], {
      env: { ...sqs.env, ...ws.env, TMPDIR: "/proc/sys" },
      cwd: ws.dir,
      timeoutMs: 30_000,
    });
    assert.equal(result.signal, null, "it hung and was killed");
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /sqsd: cannot write to the temporary directory \/proc\/sys .*TMPDIR/);
  });

  it("prints the stack with --verbose", async () => {
    const result = await runSqsd(["--config", "missing.config.ts", "--verbose"], { cwd: ws.dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ConfigError: config file not found[\s\S]* {4}at /);
  });
});

/**
 * A queue that does not exist is the one bad input an SQS server reports, and each reports it its own way (fauxqs
 * and moto answer GetQueueUrl with different codes): the refusal must read the same on both.
 */
for (const server of sqsServers())
  describe(`bad input on ${server.name}: a missing queue`, { skip: server.skip }, () => {
    it("a queue that does not exist, with createQueues off: exit 1, naming the queue", async () => {
      const sqs = await TestSqs.start({ server: server.name });
      const ws = new Workspace();
      try {
        const path = ws.writeConfig(testConfig(sqs, ["ok"], { createQueues: false, queuePrefix: "absent" }));
        await expectFailureOn(
          sqs,
          ws,
          ["--config", path],
          1,
          /queue "absent__ok" does not exist at http:\/\/127\.0\.0\.1:\d+/,
        );
      } finally {
        await sqs.stop();
        ws.remove();
      }
    });
  });
