import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { runSqsd } from "../helpers/daemon.js";
import { Scenario } from "../helpers/scenario.js";

/** The endpoint taken from AWS_ENDPOINT_URL_SQS alone, as the README offers, with no `endpoint` in the config. */
describe("an SQS endpoint from the environment", () => {
  let scenario: Scenario | undefined;
  afterEach(async () => {
    await scenario?.dispose();
    scenario = undefined;
  });

  it("is where sends and receives go, not the host in the server's queue URLs", async () => {
    scenario = await Scenario.start();
    const { sqs, ws } = scenario;
    const url = await sqs.createQueue("ok");
    // The local server's queue URLs name a host of its own (sqs.us-east-1.localhost), which does not resolve.
    assert.match(url, /^http:\/\/sqs\.[a-z0-9-]+\.localhost:/);
    const configPath = scenario.writeConfig(["ok"], { endpoint: undefined });
    const run = (args: string[]) =>
      runSqsd(args, { env: { ...scenario!.env, AWS_ENDPOINT_URL_SQS: sqs.endpoint }, cwd: ws.dir });

    const sent = await run(["send", "ok", "1", "--config", configPath]);
    assert.equal(sent.code, 0, sent.stderr);
    const consumed = await run(["--config", configPath, "--message-limit", "1"]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(ws.events().filter((event) => event.event === "handled").length, 1);
    assert.ok(!`${sent.stderr}${consumed.stderr}`.includes("QueueUrl host"), "the SDK did not override the endpoint");
  });
});
