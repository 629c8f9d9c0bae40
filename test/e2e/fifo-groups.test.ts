import assert from "node:assert/strict";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { after, before, describe, it } from "node:test";
import { sqsServers } from "../helpers/local-sqs.js";
import { RecordingProxy } from "../helpers/recording-proxy.js";
import { Scenario } from "../helpers/scenario.js";

/** a, b, c in group g1 and d in g2, sent in that order; b fails its first attempt. */
const MESSAGES = [
  { key: "a", group: "g1", n: 1 },
  { key: "b", group: "g1", n: 2, failOnce: true },
  { key: "c", group: "g1", n: 3 },
  { key: "d", group: "g2", n: 4 },
] as const;

/**
 * Three messages in groups of their own, ahead of a: sqsd asks for 1 message first, then doubles what it asks
 * while receives come back full, so x1 and then x2 and x3 bring its third receive to 4, which finds a, b, c
 * and d untouched.
 */
const WARM_UP = [
  { key: "x1", group: "x1", n: 0 },
  { key: "x2", group: "x2", n: 0 },
  { key: "x3", group: "x3", n: 0 },
] as const;

/**
 * Several messages of one FIFO group in one receive. SQS (and moto) return a, b, c and d to one receive of up to
 * four; fauxqs returns one message per group (a and d). Either way sqsd must run a group's messages one at a
 * time in order, hold c back while b waits for its retry, and lose nothing.
 */
for (const server of sqsServers()) {
  describe(`FIFO groups on ${server.name}`, { skip: server.skip }, () => {
    let scenario: Scenario;
    let proxy: RecordingProxy;
    before(async () => {
      scenario = await Scenario.start({ server: server.name });
      proxy = await RecordingProxy.start(scenario.sqs.endpoint);
    });
    after(async () => {
      await proxy?.stop();
      await scenario?.dispose();
    });

    /** Per ReceiveMessage answer sqsd got, how many of its messages were of group g1. */
    const g1PerReceive = (): number[] =>
      proxy.responses
        .filter((response) => response.action === "ReceiveMessage" && response.status === 200)
        .map((response) => (JSON.parse(response.body) as { Messages?: { Body: string }[] }).Messages ?? [])
        .map((messages) => messages.filter((message) => message.Body.includes('"group":"g1"')).length);

    async function fifoQueue(name: string, warmUp = false): Promise<string> {
      const url = await scenario.sqs.createQueue(name, { FifoQueue: "true", ContentBasedDeduplication: "true" });
      await scenario.sqs.client.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [...(warmUp ? WARM_UP : []), ...MESSAGES].map(({ key, ...body }) => ({
            Id: key,
            MessageGroupId: body.group,
            MessageBody: JSON.stringify(body),
          })),
        }),
      );
      return url;
    }

    it("what one receive of four returns (the difference this file is about)", async () => {
      const url = await fifoQueue("probe.fifo");
      const received = await scenario.sqs.receive(url, { max: 4, waitSeconds: 0 });
      const ns = received.map((message) => (JSON.parse(message.Body!) as { n: number }).n);
      // SQS: "you can receive multiple messages with the same message group ID" in one call, in order.
      assert.deepEqual(ns, server.name === "moto" ? [1, 2, 3, 4] : [1, 4]);
    });

    it("keeps group order through a failure when a receive brings several of a group, and loses nothing", async () => {
      const url = await fifoQueue("steps.fifo", true);
      const configPath = scenario.writeConfig(["fifo"], {
        endpoint: proxy.endpoint,
        // A 30 s visibility timeout: a loaded machine must not bring anything back by expiry; the retry of b
        // comes back after its 1 s retry delay.
        defaults: { visibilityTimeoutSeconds: 30, waitTimeSeconds: 1, retry: [1] },
        // A prefetch of 10 gives the queue one receive lane: two receives at once on a FIFO queue can split a
        // group out of order on moto (MOTO_DEFECTS.concurrentReceives in test/helpers/moto.ts), which SQS never does.
        pool: { threads: 2, tasksPerThread: 4, prefetch: 10 },
      });
      // Eight handler runs: x1, x2, x3, a, b (fails), b again, c, d.
      const result = await scenario.run(["--config", configPath, "--message-limit", "8"]);
      assert.equal(result.code, 0, result.stderr);

      const events = scenario.ws.events().map((event) => {
        const body = event.body as { group: string; n: number };
        return { event: event.event, group: body.group, n: body.n, receiveCount: event.receiveCount };
      });
      // Events are appended as they happen, so this order is the order in time: a start after the end before it.
      const g1 = events.filter((event) => event.group === "g1");
      assert.deepEqual(
        g1.map((event) => [event.event, event.n]),
        [
          ["started", 1],
          ["handled", 1],
          ["started", 2],
          ["started", 2],
          ["handled", 2],
          ["started", 3],
          ["handled", 3],
        ],
        "g1 ran one at a time, in order, and c waited for b's retry",
      );
      // b ran twice, from two deliveries. (c's count depends on the server: received with b and given back
      // behind it, as on moto and SQS, it is 2; received after b's retry, as on fauxqs, 1.)
      assert.deepEqual(
        g1.filter((event) => event.n === 2 && event.event === "started").map((event) => event.receiveCount),
        [1, 2],
      );
      assert.deepEqual(
        events.filter((event) => event.group === "g2").map((event) => [event.event, event.n]),
        [
          ["started", 4],
          ["handled", 4],
        ],
      );
      assert.deepEqual(await scenario.sqs.counts(url), { visible: 0, inFlight: 0, delayed: 0 }, "nothing left");
      // The case this file is about did happen: on moto a receive brought a, b and c at once; fauxqs never
      // returns more than one message of a group to one receive.
      assert.equal(Math.max(...g1PerReceive()), server.name === "moto" ? 3 : 1);
    });
  });
}
