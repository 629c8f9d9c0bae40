import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Outcome } from "../../src/pool/protocol.js";
import { configureSqs } from "../../src/sqs/settings.js";
import { SupervisorEmitter } from "../../src/supervisor/events.js";
import { PayloadCleaner } from "../../src/supervisor/payload-cleaner.js";
import type { PollTarget } from "../../src/supervisor/target.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/** A target whose queue has these options; the cleaner reads nothing else of it. */
const target = (options: Record<string, unknown>): PollTarget =>
  ({ fullName: "shop__exports", queue: { options } }) as unknown as PollTarget;

const read = (bucket: string): Outcome => ({
  kind: "ok",
  durationMs: 1,
  payload: { bucket, key: "jobs/k", sizeBytes: 10 },
});

/**
 * The decisions of deleteAfterProcessing that must not reach S3 at all (no server here: an S3 call would
 * fail the flush with a connection error, which the cleaner logs as a failed delete).
 */
describe("PayloadCleaner", () => {
  configureSqs({ largePayloads: { bucket: "mine", deleteAfterProcessing: true, s3Endpoint: "http://127.0.0.1:9" } });

  it("never deletes an object its pointer places in another bucket", async () => {
    const { logger, records } = memoryLogger();
    const events = new SupervisorEmitter();
    const deleted: string[] = [];
    events.on("payloadDeleted", (queue) => deleted.push(queue));
    events.on("payloadDeleteFailed", (queue) => deleted.push(`failed ${queue}`));
    const cleaner = new PayloadCleaner(logger, events);

    cleaner.settled(target({}), read("someone-elses"), Promise.resolve(true));
    await cleaner.flush();

    assert.deepEqual(deleted, []);
    const warning = records.find((record) => record.message.includes("another bucket"));
    assert.ok(warning);
    assert.equal((warning as unknown as Record<string, unknown>)["bucket"], "someone-elses");
  });

  it("leaves the object when the message's delete failed, and counts the body read", async () => {
    const { logger, records } = memoryLogger();
    const events = new SupervisorEmitter();
    const seen: string[] = [];
    events.on("payloadReceived", (queue, bytes) => seen.push(`received ${queue} ${bytes}`));
    events.on("payloadDeleted", () => seen.push("deleted"));
    events.on("payloadDeleteFailed", () => seen.push("delete failed"));
    const cleaner = new PayloadCleaner(logger, events);

    cleaner.settled(target({}), read("mine"), Promise.resolve(false));
    cleaner.settled(target({}), read("mine"), undefined);
    await cleaner.flush();

    assert.deepEqual(seen, ["received shop__exports 10", "received shop__exports 10"]);
    assert.equal(records.length, 0);
  });

  it("leaves objects alone when the queue turns large payloads off or does not delete after processing", async () => {
    const { logger } = memoryLogger();
    const events = new SupervisorEmitter();
    const seen: string[] = [];
    events.on("payloadDeleted", () => seen.push("deleted"));
    events.on("payloadDeleteFailed", () => seen.push("delete failed"));
    const cleaner = new PayloadCleaner(logger, events);

    cleaner.settled(target({ largePayloads: false }), read("mine"), Promise.resolve(true));
    cleaner.settled(target({ largePayloads: { bucket: "mine" } }), read("mine"), Promise.resolve(true));
    await cleaner.flush();

    assert.deepEqual(seen, []);
  });

  it("deletes the object only after the message's delete is confirmed, never before", async () => {
    const { logger } = memoryLogger();
    const events = new SupervisorEmitter();
    const order: string[] = [];
    const cleaner = new PayloadCleaner(logger, events, async (_options, location) => {
      order.push(`object ${location.bucket}/${location.key}`);
    });
    let confirm: (deleted: boolean) => void = () => undefined;
    const messageDeleted = new Promise<boolean>((resolve) => (confirm = resolve));

    cleaner.settled(target({}), read("mine"), messageDeleted);
    // The message's delete is still in flight: give every queued callback its turn, and the object is untouched.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(order.length, 0);
    order.push("message");
    confirm(true);
    await cleaner.flush();

    assert.deepEqual(order, ["message", "object mine/jobs/k"]);
  });

  it("keeps the object when the delete was confirmed after the receipt handle stopped being ours", async () => {
    const { logger, records } = memoryLogger();
    const events = new SupervisorEmitter();
    const seen: string[] = [];
    events.on("payloadDeleted", () => seen.push("deleted"));
    events.on("payloadDeleteFailed", () => seen.push("delete failed"));
    const deletes: string[] = [];
    const cleaner = new PayloadCleaner(logger, events, async (_options, location) => {
      deletes.push(location.key);
    });
    let owned = true;
    let confirm: (deleted: boolean) => void = () => undefined;
    const messageDeleted = new Promise<boolean>((resolve) => (confirm = resolve));

    cleaner.settled(target({}), read("mine"), messageDeleted, () => owned);
    // The visibility ran out (or the heartbeat lost the message) while the acker was still retrying the delete.
    owned = false;
    confirm(true);
    await cleaner.flush();

    assert.deepEqual(deletes, []);
    assert.deepEqual(seen, ["delete failed"]);
    const warning = records.find((record) => record.message.includes("receipt handle"));
    assert.ok(warning);
    assert.equal((warning as unknown as Record<string, unknown>)["key"], "jobs/k");
  });

  it("never deletes an object outside the configured prefix", async () => {
    const { logger, records } = memoryLogger();
    const events = new SupervisorEmitter();
    const deletes: string[] = [];
    const cleaner = new PayloadCleaner(logger, events, async (_options, location) => {
      deletes.push(location.key);
    });
    const options = { largePayloads: { bucket: "mine", prefix: "jobs/", deleteAfterProcessing: true } };
    const at = (key: string): Outcome => ({
      kind: "ok",
      durationMs: 1,
      payload: { bucket: "mine", key, sizeBytes: 1 },
    });

    cleaner.settled(target(options), at("config/secrets.json"), Promise.resolve(true));
    cleaner.settled(target(options), at("jobs/k"), Promise.resolve(true));
    await cleaner.flush();

    assert.deepEqual(deletes, ["jobs/k"]);
    const warning = records.find((record) => record.message.includes("another bucket or prefix"));
    assert.equal((warning as unknown as Record<string, unknown> | undefined)?.["key"], "config/secrets.json");
  });

  it("gives up waiting at the flush's bound, and names the objects left", async () => {
    const { logger, records } = memoryLogger();
    const cleaner = new PayloadCleaner(logger, new SupervisorEmitter(), async () => undefined);
    // A message delete that never settles: an unbounded flush would wait forever.
    cleaner.settled(target({}), read("mine"), new Promise<boolean>(() => undefined));

    await cleaner.flush(10);

    const warning = records.find((record) => record.message.includes("before the drain ended"));
    assert.deepEqual((warning as unknown as Record<string, unknown> | undefined)?.["objects"], ["s3://mine/jobs/k"]);
  });
});
