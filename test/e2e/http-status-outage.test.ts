import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { testConfig } from "../helpers/config.js";
import { SqsdProcess } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqsProcess } from "../helpers/local-sqs.js";
import { Workspace } from "../helpers/workspace.js";

/** /status.json's fields that this test reads. */
interface StatusJson {
  asOf: string | null;
  ageSeconds: number | null;
  stale: boolean;
  queues: { name: string; visible: number }[] | null;
}

/** The status pages while SQS does not answer: a real daemon, and an SQS server frozen with SIGSTOP. */
describe("the status pages during an SQS outage", () => {
  let server: TestSqsProcess | undefined;
  let daemon: SqsdProcess | undefined;
  let ws: Workspace | undefined;
  afterEach(async () => {
    server?.child.kill("SIGCONT");
    await daemon?.dispose();
    await server?.stop();
    ws?.remove();
  });

  it("answer every request with the last counts and their age, and no queue URL, while SQS is frozen", async () => {
    server = await TestSqsProcess.start();
    const client = server.client();
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: "ok" }));
    client.destroy();
    ws = new Workspace();
    const configPath = ws.writeConfig(
      testConfig(server, ["ok"], { http: { port: 0, statusCacheSeconds: 1 }, defaults: { waitTimeSeconds: 1 } }),
    );
    daemon = new SqsdProcess(["--config", configPath], { env: { ...server.env, ...ws.env } });
    const base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
    await daemon.started();
    // Bounded, so that a request waiting on the frozen server fails the test rather than hanging it.
    const get = (path: string) => fetch(`${base}${path}`, { signal: AbortSignal.timeout(20_000) });
    await eventually(async () => {
      const body = (await (await get("/status.json")).json()) as StatusJson;
      return body.queues?.[0]?.name === "ok";
    });

    server.child.kill("SIGSTOP");
    // Once the cached counts expire, a fresh read waits on the frozen server and the pages fall back.
    await eventually(async () => ((await (await get("/status.json")).json()) as StatusJson).stale, {
      timeoutMs: 30_000,
    });
    const paths = [...Array.from({ length: 10 }, () => "/status.json"), "/status", "/status"];
    const answers = await Promise.all(
      paths.map(async (path) => {
        const response = await get(path);
        return { path, status: response.status, body: await response.text() };
      }),
    );
    for (const { path, status, body } of answers) {
      assert.ok(status === 200 || status === 503, `${path} answered ${status}`);
      assert.ok(!body.includes(server.endpoint) && !body.includes(QueueUrl!), `${path} carries no queue URL`);
      assert.doesNotMatch(body, /\d{12}/, `${path} carries nothing like an account ID`);
      if (status !== 200) continue;
      if (path === "/status") {
        assert.match(body, /^Queue status as of \S+Z \(stale: [\d.]+ s old; SQS did not answer\)\nok\t0\n$/);
        continue;
      }
      const json = JSON.parse(body) as StatusJson;
      assert.equal(json.stale, true);
      assert.ok(json.ageSeconds! > 1, "older than the cache's 1 s");
      assert.deepEqual(
        json.queues?.map((queue) => [queue.name, queue.visible]),
        [["ok", 0]],
      );
    }
    assert.ok(
      answers.some((answer) => answer.status === 200),
      "the counts read before the outage are served",
    );

    server.child.kill("SIGCONT");
    await eventually(async () => ((await (await get("/status.json")).json()) as StatusJson).stale === false, {
      timeoutMs: 60_000,
    });
  });
});
