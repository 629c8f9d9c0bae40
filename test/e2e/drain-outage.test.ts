import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { Scenario } from "../helpers/scenario.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { sqsServers } from "../helpers/local-sqs.js";

/**
 * A drain while SQS refuses connections: the daemon exits within the stop time docs/operations.md states,
 * however long the messages' visibility timeout (600 s here), and nothing is lost: the delete it could not send
 * leaves the message in flight, to come back after its timeout.
 */
for (const server of sqsServers())
  describe(`a drain during an SQS outage on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario;
    let proxy: TcpProxy | undefined;
    afterEach(async () => {
      await proxy?.stop();
      await scenario.dispose();
    });

    it("exits within the documented bound, with a visibility timeout of 600 s, and deletes nothing unsent", async () => {
      scenario = await Scenario.start({ server: server.name });
      const { sqs, ws } = scenario;
      proxy = await TcpProxy.start(sqs.endpoint);
      const url = await sqs.createQueue("slow", { VisibilityTimeout: "600" });
      const drainTimeoutMs = 5_000;
      const waitTimeSeconds = 1;
      const configPath = scenario.writeConfig(["slow"], {
        endpoint: proxy.endpoint,
        defaults: { visibilityTimeoutSeconds: 600, waitTimeSeconds },
        drainTimeoutMs,
      });
      const daemon = scenario.spawn(["--config", configPath]);
      await daemon.started();
      const id = await sqs.send(url, JSON.stringify({ ms: 2_000 }));
      await eventually(() => ws.events().some((event) => event.id === id && event.event === "started"));
      proxy.cut();
      const signalledAt = Date.now();
      daemon.kill("SIGTERM");
      const status = await daemon.exited;
      const stopSeconds = (Date.now() - signalledAt) / 1000;

      // docs/operations.md, "How long a stop takes": the longer of drainTimeoutMs + 4 s and a receive's request
      // timeout (waitTimeSeconds + 10 s), then the final flush (5 s at most) and teardown hooks (10 s at most).
      const boundSeconds = Math.max(drainTimeoutMs / 1000 + 4, waitTimeSeconds + 10) + 5 + 10;
      assert.ok(
        stopSeconds <= boundSeconds,
        `stopped after ${stopSeconds.toFixed(1)} s; the bound is ${boundSeconds} s`,
      );
      assert.equal(status.code, 0, daemon.stderr);
      assert.ok(ws.events().some((event) => event.id === id && event.event === "handled"));
      assert.ok(daemon.logs.some((record) => /may be redelivered/.test(record.message) && record.messageId === id));
      // The delete never reached SQS: the message is in flight, and will be delivered again.
      proxy.restore();
      assert.deepEqual(await sqs.counts(url), { visible: 0, inFlight: 1, delayed: 0 });
    });
  });
