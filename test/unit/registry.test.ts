import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { RegistrationError, UnknownQueueError, ValidationError } from "../../src/errors.js";
import { receiver, register } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import { configureSqs } from "../../src/sqs/settings.js";
import { setWarningSink } from "../../src/warnings.js";

describe("the registry", () => {
  const warnings: { message: string; code: string }[] = [];
  let restoreSink: () => void;

  beforeEach(() => {
    getRegistry().clear();
    warnings.length = 0;
    restoreSink = setWarningSink((message, code) => warnings.push({ message, code }));
    configureSqs({ queuePrefix: undefined });
  });
  afterEach(() => restoreSink());

  it("derives the queue name from the handler's function name", () => {
    const proxy = receiver(async function resizeImage() {});
    assert.equal(proxy.queue.name, "resizeImage");
    assert.equal(getRegistry().get("resizeImage"), proxy.queue);
  });

  it("takes an explicit name, with or without options", () => {
    assert.equal(receiver("a", async () => {}).queue.name, "a");
    const withOptions = receiver("b", { visibilityTimeoutSeconds: 5 }, async () => {});
    assert.equal(withOptions.queue.options.visibilityTimeoutSeconds, 5);
    assert.equal(receiver({ deleteOnStart: true }, async function c() {}).queue.options.deleteOnStart, true);
  });

  it("refuses an anonymous handler without a name", () => {
    assert.throws(
      () => receiver(async () => {}),
      (error: unknown) => {
        assert.ok(error instanceof RegistrationError);
        assert.match(error.message, /anonymous handler and no name/);
        return true;
      },
    );
  });

  it("builds full names from the prefix and suffix, at use time", () => {
    const proxy = receiver("thumbnails", { suffixes: ["big"] }, async () => {});
    assert.equal(proxy.queue.fullName, "thumbnails");
    configureSqs({ queuePrefix: "shop" });
    assert.equal(proxy.queue.fullName, "shop__thumbnails");
    assert.equal(proxy.queue.fullNameFor("big"), "shop__thumbnails__big");
    assert.deepEqual(warnings, []);
  });

  it("warns once about an unknown suffix and still uses it", () => {
    const proxy = receiver("thumbnails", { suffixes: ["big"] }, async () => {});
    assert.equal(proxy.queue.fullNameFor("huge"), "thumbnails__huge");
    assert.equal(proxy.queue.fullNameFor("huge"), "thumbnails__huge");
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.code, "SQSD_UNKNOWN_SUFFIX");
    assert.match(warnings[0]?.message ?? "", /"thumbnails" has no declared suffix "huge"/);
  });

  it("refuses to register a name twice", () => {
    receiver("twice", async () => {});
    assert.throws(
      () => register("twice"),
      (error: unknown) => {
        assert.ok(error instanceof RegistrationError);
        assert.equal(error.queue, "twice");
        assert.match(error.message, /registered twice/);
        return true;
      },
    );
  });

  it("refuses a name SQS would reject, naming the queue and the rule", () => {
    assert.throws(() => receiver("bad name", async () => {}), /queue name "bad name" may only contain letters, digits/);
    assert.throws(() => register("x".repeat(81)), /must be 1\.\.80 characters long/);
    assert.throws(() => register("orders.fifo.bak"), /may only contain/);
  });

  it("refuses a full name that the prefix makes too long", () => {
    const proxy = receiver("x".repeat(78), async () => {});
    configureSqs({ queuePrefix: "shop" });
    assert.throws(() => proxy.queue.fullName, /full queue name "shop__x+" must be 1\.\.80 characters/);
  });

  it("validates options, naming the queue, the field and the value", () => {
    assert.throws(
      () => receiver("opts", { visibilityTimeoutSeconds: -5 }, async () => {}),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(
          error.message,
          'queue "opts" options: visibilityTimeoutSeconds must be an integer 0..43200, got -5',
        );
        return true;
      },
    );
    assert.throws(
      () => receiver("opts2", { onError: "ignore" as never, visibilityTimeout: 3 } as never, async () => {}),
      /onError must be "retry" or "delete", got "ignore".*visibilityTimeout is not a known option, got a number \(value not shown\)/,
    );
    assert.throws(() => receiver("opts3", { weight: 0 }, async () => {}), /weight must be an integer 1\.\.1000, got 0/);
  });

  it("registers send-only queues with register()", () => {
    const queue = register("outbox");
    assert.equal(queue.handler, undefined);
    assert.equal(getRegistry().get("outbox"), queue);
  });

  it("names the known queues when asked for an unknown one", () => {
    register("a");
    register("b");
    assert.throws(
      () => getRegistry().get("c"),
      (error: unknown) => {
        assert.ok(error instanceof UnknownQueueError);
        assert.equal(error.message, 'unknown queue "c" (registered queues: a, b)');
        return true;
      },
    );
  });

  it("calls the handler in-process with direct()", async () => {
    const seen: unknown[] = [];
    const proxy = receiver<{ n: number }>("direct", async (message) => {
      seen.push([message.body.n, message.receiveCount, message.queue.fullName]);
    });
    await proxy.direct({ body: { n: 1 } });
    await proxy.direct({ body: { n: 2 }, receiveCount: 3 });
    assert.deepEqual(seen, [
      [1, 1, "direct"],
      [2, 3, "direct"],
    ]);
  });
});
