import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { BodyChecksumError } from "../../src/codecs/errors.js";
import type { HandlerTask, WireMessage } from "../../src/pool/protocol.js";
import { getRegistry } from "../../src/registry/registry.js";
import { receiver } from "../../src/registry/receiver.js";
import { decode } from "../../workers/decode-message.js";

/**
 * The pool thread's end-to-end integrity check: the body it decodes must hash to the MD5OfBody SQS computed
 * on send. The SDK's own check is off on the daemon's receive path (lean, or md5: false), so this is the one.
 */
describe("the body's MD5 check in the pool thread", () => {
  getRegistry().clear();
  const queue = receiver("md5-check", async () => {}).queue;
  const task: HandlerTask = { queue: queue.name, suffix: undefined, fullName: queue.fullName, runs: [] };
  const body = JSON.stringify({ greeting: "grüße, 世界" });
  const md5 = createHash("md5").update(Buffer.from(body, "utf8")).digest("hex");
  const message = (md5OfBody: string | undefined): WireMessage => ({
    id: "message-1",
    deliveryId: 1,
    body,
    attributes: {},
    messageAttributes: {},
    ...(md5OfBody === undefined ? {} : { md5OfBody }),
  });
  const run = (wire: WireMessage) => decode(queue, task, wire, new AbortController().signal, async () => {});

  it("decodes a body whose MD5 matches, multi-byte characters included", async () => {
    assert.deepEqual((await run(message(md5))).body, { greeting: "grüße, 世界" });
  });

  it("decodes a body the server sent no MD5 for", async () => {
    assert.deepEqual((await run(message(undefined))).body, { greeting: "grüße, 世界" });
  });

  it("fails a body whose MD5 differs as a decode failure that names the message, never the body", async () => {
    await assert.rejects(run(message("0".repeat(32))), (error: unknown) => {
      assert.ok(error instanceof BodyChecksumError);
      assert.equal(error.code, "SQSD_BODY_MD5_MISMATCH");
      assert.match(error.message, /message-1/);
      assert.doesNotMatch(error.message, /grüße|greeting/);
      assert.doesNotMatch(error.message, new RegExp(md5));
      return true;
    });
  });
});
