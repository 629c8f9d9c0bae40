import assert from "node:assert/strict";
import { createServer } from "node:net";
import { afterEach, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { Scenario } from "../helpers/scenario.js";

/** A port nothing listens on now, for a daemon to take: `sqsd healthcheck` needs the port the config names. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(typeof address === "object" && address !== null);
  return address.port;
}

/** `sqsd healthcheck`, the image's HEALTHCHECK, against a real daemon: it reads where to ask from the config. */
describe("sqsd healthcheck", () => {
  let scenario: Scenario | undefined;
  afterEach(async () => {
    await scenario?.dispose();
    scenario = undefined;
  });

  it("exits 0 while the daemon is healthy, and 1 once its /healthz answers 503 or nothing answers", async () => {
    scenario = await Scenario.start();
    await scenario.sqs.createQueue("ok");
    // Listening on every interface: the check asks on loopback.
    const http = { host: "0.0.0.0", port: await freePort() };
    const configPath = scenario.writeConfig(["ok"], {
      http,
      stallSeconds: 2,
      defaults: { waitTimeSeconds: 1 },
    });
    const daemon = scenario.spawn(["--config", configPath]);
    await daemon.started();

    const healthy = await scenario.run(["healthcheck", "--config", configPath]);
    assert.equal(healthy.code, 0, `stdout: ${healthy.stdout}\nstderr: ${healthy.stderr}`);
    assert.equal(healthy.stdout, `healthy: http://127.0.0.1:${http.port}/healthz answered 200`);

    // SQS goes away: the pollers stop making progress, and /healthz says so within stallSeconds + one wait.
    await scenario.sqs.stop();
    const unhealthy = await eventually(
      async () => {
        const result = await scenario!.run(["healthcheck", "--config", configPath]);
        return result.code === 1 && result;
      },
      { timeoutMs: 60_000, message: () => "sqsd healthcheck never reported the stalled daemon" },
    );
    assert.match(unhealthy.stdout, new RegExp(`^unhealthy: http://127\\.0\\.0\\.1:${http.port}/healthz answered 503 `));
    assert.match(unhealthy.stdout, /"stalled":\[\{"queue":"ok"/);

    daemon.kill("SIGKILL");
    await daemon.exited;
    const gone = await scenario.run(["healthcheck", "--config", configPath, "--timeout-seconds", "2"]);
    assert.equal(gone.code, 1, gone.stdout);
    assert.match(gone.stdout, new RegExp(`^unhealthy: http://127\\.0\\.0\\.1:${http.port}/healthz did not answer: `));
  });

  it("exits 0 with a note when the config has no http endpoint", async () => {
    scenario = await Scenario.start();
    const configPath = scenario.writeConfig(["ok"]);
    const result = await scenario.run(["healthcheck", "--config", configPath]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^healthcheck: the config has no http endpoint, so there is nothing to check/);
  });

  it("exits 1, never Docker's reserved 2, when the config cannot be read", async () => {
    scenario = await Scenario.start();
    const result = await scenario.run(["healthcheck", "--config", "missing.config.ts"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^unhealthy: cannot read the config: .*config file not found/);
  });
});
