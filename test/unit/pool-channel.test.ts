import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { afterEach, describe, it } from "node:test";
import { PoolRequestError } from "../../src/pool-errors.js";
import { ChannelEndpoint } from "../../src/pool/channel.js";
import type { LifecycleMessage } from "../../src/pool/channel-messages.js";
import { eventually } from "../helpers/eventually.js";

/** What the test's "supervisor" serves. */
interface TestServices {
  double(n: number): number;
  never(): boolean;
}

/**
 * Two parties on one BroadcastChannel, in one thread (a BroadcastChannel delivers to every other instance of
 * its name, in this thread too): the supervisor and "thread 7", plus a bystander, thread 8.
 */
function parties(options: { requestTimeoutMs?: number } = {}) {
  const channelName = `test:${randomUUID()}`;
  const heard: LifecycleMessage[] = [];
  const supervisor = new ChannelEndpoint<TestServices, Record<never, never>>({
    channelName,
    address: "supervisor",
    onLifecycle: (message) => heard.push(message),
  });
  const thread = new ChannelEndpoint<Record<never, never>, TestServices>({
    channelName,
    address: 7,
    onLifecycle: () => undefined,
    ...options,
  });
  const bystanderHeard: string[] = [];
  const bystander = new ChannelEndpoint<TestServices, Record<never, never>>({
    channelName,
    address: 8,
    onLifecycle: () => undefined,
  });
  bystander.serve("double", (n) => {
    bystanderHeard.push(`double ${n}`);
    return -1;
  });
  const endpoints = [supervisor, thread, bystander];
  return { supervisor, thread, heard, bystanderHeard, close: () => endpoints.forEach((endpoint) => endpoint.close()) };
}

function failure(expected: PoolRequestError["failure"], pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof PoolRequestError, String(error));
    assert.equal(error.failure, expected);
    assert.match(error.message, pattern);
    return true;
  };
}

describe("the pool's request channel", () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it("answers a request with the result of the service registered at the address it names", async () => {
    const channel = parties();
    close = channel.close;
    channel.supervisor.serve("double", async (n) => n * 2);

    assert.deepEqual(
      await Promise.all([
        channel.thread.request("supervisor", "double", 21),
        channel.thread.request("supervisor", "double", 5),
      ]),
      [42, 10],
    );
    assert.deepEqual(channel.bystanderHeard, [], "another party serving the same name is not asked");
  });

  it("rejects with the service's error, serialized across", async () => {
    const channel = parties();
    close = channel.close;
    channel.supervisor.serve("double", () => {
      throw new RangeError("too big");
    });

    await assert.rejects(channel.thread.request("supervisor", "double", 1), (error) => {
      failure("failed", /double failed: RangeError: too big/)(error);
      const cause = (error as PoolRequestError).cause;
      assert.ok(cause instanceof Error);
      assert.equal(cause.name, "RangeError");
      return true;
    });
  });

  it("rejects a request for a service nobody registered there", async () => {
    const channel = parties();
    close = channel.close;
    await assert.rejects(
      channel.thread.request("supervisor", "double", 1),
      failure("failed", /the supervisor serves no "double"/),
    );
  });

  it("rejects a request that gets no answer in time", async () => {
    const channel = parties({ requestTimeoutMs: 20 });
    close = channel.close;
    channel.supervisor.serve("never", () => new Promise<boolean>(() => undefined));
    await assert.rejects(channel.thread.request("supervisor", "never"), failure("timeout", /no answer within 20 ms/));
  });

  it("rejects pending requests when either side closes, and refuses new ones", async () => {
    const channel = parties();
    close = channel.close;
    channel.supervisor.serve("never", () => new Promise<boolean>(() => undefined));
    const pending = channel.thread.request("supervisor", "never");
    channel.supervisor.close();
    await assert.rejects(pending, failure("closed", /the supervisor left the channel/));

    const ownPending = channel.thread.request("supervisor", "never");
    channel.thread.close();
    await assert.rejects(ownPending, failure("closed", /the channel closed/));
    await assert.rejects(channel.thread.request("supervisor", "double", 1), failure("closed", /not sent/));
  });

  it("drops an answer that comes after its side closed, without throwing", async () => {
    const channel = parties();
    close = channel.close;
    let answer!: (value: boolean) => void;
    let asked!: () => void;
    const wasAsked = new Promise<void>((resolve) => (asked = resolve));
    channel.supervisor.serve("never", () => {
      asked();
      return new Promise<boolean>((resolve) => (answer = resolve));
    });
    const pending = channel.thread.request("supervisor", "never");
    await wasAsked;
    channel.supervisor.close();
    answer(true);
    await assert.rejects(pending, failure("closed", /left the channel/));
    // The late answer is dropped on the next turns of the loop; throwing there would fail this test file.
    await new Promise((resolve) => setImmediate(resolve));
  });

  it("delivers lifecycle messages in order, and ignores posts once closed", async () => {
    const channel = parties();
    close = channel.close;
    channel.thread.post({ type: "ready", threadId: 7 });
    channel.thread.post({ type: "tornDown", threadId: 7, errors: [] });
    await eventually(() => channel.heard.length === 2);
    assert.deepEqual(
      channel.heard.map((message) => message.type),
      ["ready", "tornDown"],
    );
    channel.thread.close();
    assert.doesNotThrow(() => channel.thread.post({ type: "ready", threadId: 7 }));
  });
});
