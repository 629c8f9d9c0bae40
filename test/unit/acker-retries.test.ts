import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SqsHotPath } from "../../src/sqs/hot-path.js";
import { Acker } from "../../src/supervisor/acker.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/**
 * The acker's retry rules, with a stub client: fauxqs never fails single entries of a batch, so per-entry
 * failures can only be produced by hand. Behaviour against a real server is in integration/acker.test.ts.
 */
describe("Acker retry rules", () => {
  type Entry = { Id: string; ReceiptHandle: string };
  type Reply = { Failed?: { Id: string; SenderFault: boolean; Code: string; Message?: string }[] } | Error;

  function stubClient(replies: ((entries: Entry[]) => Reply)[]) {
    const calls: Entry[][] = [];
    const batch = async (input: { Entries?: Entry[] }) => {
      const entries = input.Entries ?? [];
      calls.push(entries);
      const reply = (replies[calls.length - 1] ?? (() => ({})))(entries);
      if (reply instanceof Error) throw reply;
      return reply;
    };
    const client = { deleteMessageBatch: batch, changeMessageVisibilityBatch: batch };
    return { client: client as unknown as SqsHotPath, calls };
  }

  const target = (n: number) => ({ queueUrl: "https://sqs/q", messageId: `m${n}`, receiptHandle: `r${n}` });

  it("retries entries that failed on the server's side, and only those", async () => {
    const { client, calls } = stubClient([
      (entries) => ({ Failed: [{ Id: entries[1]!.Id, SenderFault: false, Code: "InternalError" }] }),
      () => ({}),
    ]);
    const { logger, records } = memoryLogger();
    const acker = new Acker(client, logger);
    const results = await Promise.all([acker.delete(target(1)), acker.delete(target(2)), acker.delete(target(3))]);
    assert.deepEqual(results, [true, true, true]);
    assert.deepEqual(
      calls.map((entries) => entries.map((entry) => entry.ReceiptHandle)),
      [["r1", "r2", "r3"], ["r2"]],
    );
    assert.equal(records.filter((record) => record.level === "warn").length, 0);
  });

  it("does not retry an entry rejected as the sender's fault, and says it may be redelivered", async () => {
    const { client, calls } = stubClient([
      (entries) => ({
        Failed: [{ Id: entries[0]!.Id, SenderFault: true, Code: "ReceiptHandleIsInvalid", Message: "expired" }],
      }),
    ]);
    const { logger, records } = memoryLogger();
    const acker = new Acker(client, logger);
    assert.equal(await acker.delete(target(1)), false);
    assert.equal(calls.length, 1);
    const warning = records.find((record) => record.messageId === "m1");
    assert.match(warning?.message ?? "", /rejected an entry; the message may be redelivered/);
  });

  it("retries a request that failed on the network, then gives up after four attempts", async () => {
    const networkDown = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const { client, calls } = stubClient([networkDown, networkDown, networkDown, networkDown, () => ({})]);
    const { logger, records } = memoryLogger();
    const acker = new Acker(client, logger);
    assert.equal(await acker.changeVisibility(target(1), 0), false);
    assert.equal(calls.length, 4);
    const warning = records.find((record) => record.messageId === "m1");
    assert.match(warning?.message ?? "", /ChangeMessageVisibilityBatch failed; the message may be redelivered/);
    assert.match(warning?.reason ?? "", /ECONNREFUSED/);
  });

  it("keeps retrying past four attempts while the receipt handle is still valid", async () => {
    const networkDown = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    const { client, calls } = stubClient([networkDown, networkDown, networkDown, networkDown, networkDown, () => ({})]);
    const acker = new Acker(client, memoryLogger().logger);
    assert.equal(await acker.delete({ ...target(1), validUntil: Date.now() + 60_000 }), true);
    assert.equal(calls.length, 6);
  });

  it("drops a visibility change that a later one of the same message supersedes, also between retries", async () => {
    const throttled = () => Object.assign(new Error("slow down"), { name: "ThrottlingException" });
    type VisibilityEntry = Entry & { VisibilityTimeout: number };
    const { client, calls } = stubClient([throttled, () => ({})]);
    const acker = new Acker(client, memoryLogger().logger);
    // A heartbeat's extension is throttled and waits to be retried; meanwhile the message is given back.
    const extension = acker.changeVisibility({ ...target(1), validUntil: Date.now() + 60_000 }, 30);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const release = acker.changeVisibility(target(1), 0);
    assert.deepEqual(await Promise.all([extension, release]), [true, true]);
    const sent = calls.map((entries) => (entries as VisibilityEntry[]).map((entry) => entry.VisibilityTimeout));
    assert.deepEqual(sent, [[30], [0]], "the extension was not sent again after the give-back");
  });
});
