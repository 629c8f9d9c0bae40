import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { Scenario } from "../helpers/scenario.js";
import { sqsServers } from "../helpers/local-sqs.js";

/** `http.readyWhenPaused`, from the config file to the probe, against a real daemon. */
for (const server of sqsServers())
  describe(`/readyz with http.readyWhenPaused on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario | undefined;
    after(() => scenario?.dispose());

    it("keeps /readyz at 200 while paused", async () => {
      scenario = await Scenario.start({ server: server.name });
      await scenario.sqs.createQueue("ok");
      const configPath = scenario.writeConfig(["ok"], { http: { port: 0, readyWhenPaused: true } });
      const daemon = scenario.spawn(["--config", configPath]);
      const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
      await daemon.started();
      const readiness = async () => {
        const response = await fetch(`${base}/readyz`);
        return { status: response.status, ...((await response.json()) as { ready: boolean; state: string }) };
      };
      assert.deepEqual(await readiness(), { status: 200, ready: true, state: "running" });

      daemon.kill("SIGTSTP");
      const paused = await eventually(async () => {
        const answer = await readiness();
        return answer.state === "paused" && answer;
      });
      assert.deepEqual(paused, { status: 200, ready: true, state: "paused" });

      // Draining is never ready, with or without the option: test/integration/http-readiness.test.ts.
      daemon.kill("SIGTERM");
      assert.equal((await daemon.exited).code, 0);
    });
  });
