import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runSqsd } from "../helpers/daemon.js";
import { TestSqs } from "../helpers/local-sqs.js";
import { repoRoot } from "../helpers/paths.js";
import { SqsHttpProxy } from "../helpers/sqs-http-proxy.js";
import { Workspace } from "../helpers/workspace.js";

/**
 * The IAM policies in deploy/iam against what the commands really call: each command runs through the CLI,
 * with the deploy kit's receivers, against a real SQS server behind a proxy that notes every API called, and
 * every call must be allowed by that command's policy. (That each policy grants no more than the code calls is
 * checked in test/unit/deploy-kit.test.ts.)
 */
describe("the deploy kit's IAM policies", () => {
  let sqs: TestSqs;
  let proxy: SqsHttpProxy;
  const ws = new Workspace();
  let configPath: string;

  before(async () => {
    sqs = await TestSqs.start();
    proxy = await SqsHttpProxy.start(sqs.endpoint);
    configPath = ws.writeConfig({
      endpoint: proxy.endpoint,
      region: "us-east-1",
      queuePrefix: "shop",
      receivers: [join(repoRoot, "deploy", "receivers", "jobs.ts")],
      defaults: { waitTimeSeconds: 1, deadLetter: { maxReceiveCount: 5 } },
      drainPolls: "abort",
      log: { level: "info", format: "json" },
    });
  });
  after(async () => {
    await proxy.stop();
    await sqs.stop();
    ws.remove();
  });

  /** Runs `sqsd --config ... args` and returns the SQS APIs it called. */
  async function callsOf(...args: string[]): Promise<string[]> {
    proxy.take();
    const result = await runSqsd(["--config", configPath, ...args], { env: sqs.env, cwd: ws.dir });
    assert.ok(result.code === 0 || result.code === 1, `sqsd ${args.join(" ")} ran: ${result.stderr}`);
    return proxy.take();
  }

  /** Asserts that the policy in deploy/iam/`file` allows every one of `calls`. */
  function assertAllowed(file: string, calls: readonly string[]): void {
    const policy = JSON.parse(readFileSync(join(repoRoot, "deploy", "iam", file), "utf8")) as {
      Statement: { Action: string[] }[];
    };
    const allowed = new Set(policy.Statement.flatMap((statement) => statement.Action));
    assert.ok(calls.length > 0, `${file}: the command made calls`);
    for (const call of calls) {
      // The batch APIs are authorized by their single-message actions.
      const action = `sqs:${call.replace(/Batch$/, "")}`;
      assert.ok(allowed.has(action), `${file} must allow ${action} (${call})`);
    }
  }

  it("covers every call of init, send, status, wait, peek, the daemon, redrive and clear", async () => {
    assertAllowed("init.json", await callsOf("init"));
    assertAllowed("send.json", await callsOf("send", "emails", '{"to":"a@example.com","template":"welcome"}'));
    assertAllowed("status.json", await callsOf("status"));
    assertAllowed("wait.json", await callsOf("wait", "emails", "--timeout-seconds", "1", "--cycles", "1"));
    assertAllowed("peek.json", await callsOf("peek", "emails"));
    const daemon = await callsOf("run", "--message-limit", "1", "emails");
    assert.ok(daemon.includes("DeleteMessageBatch"), "the daemon processed the message");
    assertAllowed("daemon.json", daemon);

    // A message in the dead-letter queue, put there directly, for redrive to move back.
    await sqs.send(await sqs.createQueue("shop__emails__dlq"), '{"to":"b@example.com","template":"welcome"}');
    assertAllowed("redrive.json", await callsOf("redrive", "emails"));

    assertAllowed("clear.json", await callsOf("clear", "--yes", "emails"));
    assertAllowed("clear-purge.json", await callsOf("clear", "--yes", "--purge", "emails"));
  });
});
