import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testConfig } from "../helpers/config.js";
import { SqsdProcess } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";
import { TestSqs, sqsServers } from "../helpers/local-sqs.js";
import { Workspace } from "../helpers/workspace.js";

/** Of every queue here, in SQS and in the daemon's config. */
const VISIBILITY_TIMEOUT_SECONDS = 2;

/**
 * What happens to a message after its handler ran: one daemon consumes a queue per behaviour, and each test
 * sends to one of them and watches the queue through SQS's own API.
 */
for (const server of sqsServers())
  describe(`message outcomes on ${server.name}`, { skip: server.skip }, () => {
    let sqs: TestSqs;
    let workspace: Workspace;
    let daemon: SqsdProcess;
    const urls: Record<string, string> = {};

    before(async () => {
      sqs = await TestSqs.start({ server: server.name });
      workspace = new Workspace();
      const queues = ["ok", "throws", "restart-later", "delete-on-start", "on-error-delete"];
      // The queues exist before the daemon starts, so the test can send to them right away.
      for (const name of queues)
        urls[name] = await sqs.createQueue(name, { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) });
      const configPath = workspace.writeConfig(
        testConfig(sqs, queues, {
          defaults: { visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS },
          pool: { threads: 2, tasksPerThread: 4 },
        }),
      );
      daemon = new SqsdProcess(["--config", configPath], { env: { ...sqs.env, ...workspace.env } });
      await daemon.started();
    });

    after(async () => {
      await daemon.dispose();
      await sqs.stop();
      workspace.remove();
    });

    const eventsFor = (id: string) => workspace.events().filter((event) => event.id === id);
    /**
     * Counts, from now on, the visibility changes the daemon makes for message `id`, the only one on its queue.
     * Heartbeats do not count: a handler slow to finish (on a loaded machine) gets its visibility extended. The
     * daemon logs each extension with the message id once SQS has answered it, so a test polls until the two
     * counts agree.
     */
    const countVisibilityChanges = (queueUrl: string) => {
      const changes = () => sqs.requests("ChangeMessageVisibilityBatch", queueUrl);
      const before = changes();
      return (id: string): number =>
        changes() -
        before -
        daemon.logs.filter((record) => record.messageId === id && record.message === "visibility extended").length;
    };

    it("deletes a message whose handler succeeded", async () => {
      const id = await sqs.send(urls["ok"]!, JSON.stringify({ n: 1 }));
      await eventually(() => eventsFor(id).length === 1);
      await eventually(async () => {
        const counts = await sqs.counts(urls["ok"]!);
        return counts.visible === 0 && counts.inFlight === 0;
      });
      assert.ok(sqs.requests("DeleteMessageBatch", urls["ok"]) >= 1);
      const log = await daemon.waitForLog(
        (record) => record.messageId === id && record.message === "message processed",
      );
      assert.equal(log.outcome, "ok");
      assert.equal(log.queue, "ok");
      assert.equal(log.receiveCount, 1);
      assert.equal(typeof log.durationMs, "number");
    });

    it("leaves a message whose handler threw, and it comes back with receiveCount 2", async () => {
      const id = await sqs.send(urls["throws"]!, JSON.stringify({ n: 2 }));
      const first = await eventually(() => eventsFor(id)[0]);
      assert.equal(first.receiveCount, 1);
      // Not deleted. (Whether it is still in flight depends on how soon this runs: its visibility timeout is 2 s.
      // That it waits the timeout out is checked on its second delivery, below.)
      const counts = await sqs.counts(urls["throws"]!);
      assert.equal(counts.visible + counts.inFlight, 1);
      const second = await eventually(() => eventsFor(id)[1]);
      assert.equal(second.receiveCount, 2);
      // Without a retry backoff it waits out its visibility timeout: released at once (visibility 0), it would
      // be back within milliseconds of its first receive.
      const firstReceivedAt = Number(second.attributes?.["ApproximateFirstReceiveTimestamp"]);
      assert.ok(
        second.at - firstReceivedAt >= VISIBILITY_TIMEOUT_SECONDS * 1000,
        `redelivered ${second.at - firstReceivedAt} ms after its first receive`,
      );
      const log = await daemon.waitForLog((record) => record.messageId === id && record.message === "handler failed");
      assert.equal(log.level, "error");
      assert.equal(log.error, "Error: boom");
      assert.match(String(log.stack), /throws\.ts/);
    });

    it("leaves a message on RestartLater without a delay, with no request, and it comes back", async () => {
      const visibilityChanges = countVisibilityChanges(urls["restart-later"]!);
      const id = await sqs.send(urls["restart-later"]!, JSON.stringify({}));
      await eventually(() => eventsFor(id).length === 1);
      // Not deleted (in flight, or visible again if its 2 s visibility timeout has already run out).
      const counts = await sqs.counts(urls["restart-later"]!);
      assert.equal(counts.visible + counts.inFlight, 1);
      const log = await daemon.waitForLog((record) => record.messageId === id && record.outcome === "restartLater");
      assert.equal(log.level, "info");
      assert.equal(log.stack, undefined);
      await eventually(() => eventsFor(id)[1]?.receiveCount === 2);
      await eventually(async () => (await sqs.counts(urls["restart-later"]!)).inFlight === 0);
      await eventually(() => visibilityChanges(id) === 0, {
        message: () => `${visibilityChanges(id)} visibility change(s), expected none`,
      });
    });

    it("sets the visibility on RestartLater with a delay, and the message comes back", async () => {
      const visibilityChanges = countVisibilityChanges(urls["restart-later"]!);
      const id = await sqs.send(urls["restart-later"]!, JSON.stringify({ delaySeconds: 1 }));
      await eventually(() => eventsFor(id)[1]?.receiveCount === 2);
      await eventually(() => visibilityChanges(id) === 1, {
        message: () => `${visibilityChanges(id)} visibility change(s), expected one`,
      });
      const log = await daemon.waitForLog((record) => record.messageId === id && record.outcome === "restartLater");
      assert.equal(log.delaySeconds, 1);
    });

    it("deletes before the handler runs with deleteOnStart, so a failure loses the message", async () => {
      const id = await sqs.send(urls["delete-on-start"]!, JSON.stringify({ n: 3 }));
      await eventually(() => eventsFor(id).some((event) => event.event === "started"));
      // The handler is still running (it waits until the test opens its gate), and the message is already gone.
      assert.ok(!eventsFor(id).some((event) => event.event === "handled"));
      assert.deepEqual(await sqs.counts(urls["delete-on-start"]!), { visible: 0, inFlight: 0, delayed: 0 });
      workspace.openGate(id);
      await eventually(() => eventsFor(id).some((event) => event.event === "handled"));
      await daemon.waitForLog((record) => record.messageId === id && record.message === "handler failed");
      assert.deepEqual(await sqs.counts(urls["delete-on-start"]!), { visible: 0, inFlight: 0, delayed: 0 });
    });

    it('deletes a failed message under onError: "delete"', async () => {
      const id = await sqs.send(urls["on-error-delete"]!, JSON.stringify({ n: 4 }));
      await eventually(() => eventsFor(id).length === 1);
      await eventually(async () => {
        const counts = await sqs.counts(urls["on-error-delete"]!);
        return counts.visible === 0 && counts.inFlight === 0;
      });
      const log = await daemon.waitForLog((record) => record.messageId === id && record.message === "handler failed");
      assert.equal(log.onError, "delete");
      assert.equal(eventsFor(id).length, 1);
    });
  });
