import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { Scenario } from "../helpers/scenario.js";
import { sqsServers } from "../helpers/local-sqs.js";

/** `sqsd status --watch --http URL`: the running daemon's processed rate and per-queue load in the terminal. */
for (const server of sqsServers())
  describe(`sqsd status --http on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario;
    let base: string;
    let configPath: string;
    let url: string;

    before(async () => {
      scenario = await Scenario.start({ server: server.name });
      url = await scenario.sqs.createQueue("ok");
      configPath = scenario.writeConfig(["ok"], { http: { port: 0 } });
      const daemon = scenario.spawn(["--config", configPath]);
      base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
      await daemon.started();
    });
    after(() => scenario?.dispose());

    it("shows the daemon's state, processed rate, and buffered and running per queue", async () => {
      const watch = scenario.spawn([
        "status",
        "--config",
        configPath,
        "--watch",
        "--interval-seconds",
        "1",
        "--http",
        base,
      ]);
      const rate = /^Daemon running, (\d+) processed, ([\d.]+) msg\/s$/;
      // Messages go through while it watches, until a redraw shows a rate above zero.
      await eventually(
        async () => {
          await scenario.sqs.sendMany(url, ["{}", "{}", "{}"]);
          return watch.stdoutLines.some((line) => Number(rate.exec(line)?.[2] ?? 0) > 0);
        },
        { timeoutMs: 60_000, intervalMs: 500, message: () => `no rate in: ${watch.stdoutLines.slice(-12).join("\n")}` },
      );
      assert.ok(watch.stdoutLines.some((line) => /QUEUE .*BUFFERED +RUNNING$/.test(line)));
      assert.ok(watch.stdoutLines.some((line) => /^ok +\d+ +\d+ +\d+ +- +- +\d+ +\d+$/.test(line)));
      watch.kill("SIGINT");
      assert.equal((await watch.exited).code, 0);
    });

    it("says so when no daemon answers, and refuses a URL that is not one", async () => {
      const silent = await scenario.run(["status", "--config", configPath, "--http", "http://127.0.0.1:9"]);
      assert.equal(silent.code, 0);
      assert.match(silent.stdout, /Daemon at http:\/\/127\.0\.0\.1:9\/ did not answer/);
      const bad = await scenario.run(["status", "--config", configPath, "--http", "localhost:8080"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--http must be an http:\/\/ or https:\/\/ URL, got localhost:8080/);
    });
  });
