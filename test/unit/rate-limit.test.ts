import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { receiverOptionsSchema, validate } from "../../src/config/rules.js";
import { LocalLimiter } from "../../src/rate-limit/local-limiter.js";
import { QueueGate } from "../../src/rate-limit/queue-gate.js";
import { resolveRateLimit } from "../../src/rate-limit/queue-gates.js";
import { SharedLimiter, sharedWindow } from "../../src/rate-limit/shared-limiter.js";
import { TokenBucket } from "../../src/rate-limit/token-bucket.js";
import { FakeClock, settle } from "../helpers/fake-clock.js";

/** One step of a run of receives against a bucket: time passes, a receive is sent, or one returns. */
type Step =
  | { readonly kind: "advance"; readonly ms: number }
  | { readonly kind: "receive"; readonly max: number }
  | { readonly kind: "return"; readonly lane: number; readonly fraction: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  fc.record({ kind: fc.constant("receive" as const), max: fc.integer({ min: 1, max: 10 }) }),
  fc.record({
    kind: fc.constant("return" as const),
    lane: fc.nat(),
    fraction: fc.oneof(fc.constant(1), fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
  }),
);

describe("TokenBucket", () => {
  it("over any interleaving of receives, returns and time, receives in any window stay within rate × window + burst", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(step, { maxLength: 80 }),
        (perSecond, burst, steps) => {
          let now = 0;
          const bucket = new TokenBucket(perSecond, burst, now);
          const underWay: number[] = [];
          const received: { at: number; count: number }[] = [];
          for (const s of steps) {
            if (s.kind === "advance") now += s.ms;
            else if (s.kind === "receive") {
              const granted = bucket.reserve(s.max, now);
              assert.ok(granted <= s.max);
              if (granted > 0) underWay.push(granted);
            } else if (underWay.length > 0) {
              const [reserved] = underWay.splice(s.lane % underWay.length, 1) as [number];
              const count = Math.floor(reserved * s.fraction);
              bucket.settle(reserved, count, now);
              if (count > 0) received.push({ at: now, count });
            }
          }
          // Every window that begins and ends at a return is the tightest one that holds those returns.
          for (let a = 0; a < received.length; a += 1) {
            let total = 0;
            for (let b = a; b < received.length; b += 1) {
              total += received[b]!.count;
              const windowSeconds = (received[b]!.at - received[a]!.at) / 1000;
              assert.ok(
                total <= perSecond * windowSeconds + burst + 1e-6,
                `${total} received in ${windowSeconds} s at ${perSecond}/s, burst ${burst}`,
              );
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("gives back what a receive did not bring, and refills at its rate up to the burst", () => {
    const bucket = new TokenBucket(5, 5, 0);
    assert.equal(bucket.reserve(10, 0), 5);
    assert.equal(bucket.available(0), 0);
    // Reserved tokens count as in the bucket: a long poll that holds them lets none accrue.
    assert.equal(bucket.available(20_000), 0);
    assert.equal(bucket.msUntilToken(20_000), Number.POSITIVE_INFINITY);
    bucket.settle(5, 2, 20_000);
    assert.equal(bucket.available(20_000), 3);
    assert.equal(bucket.available(20_200), 4);
    assert.equal(bucket.msUntilToken(20_200), 0);
    assert.equal(bucket.reserve(4, 20_200), 4);
    assert.equal(bucket.msUntilToken(20_200), 200);
  });
});

describe("LocalLimiter", () => {
  it("wakes a wait for a token when the token accrues, or when a receive gives tokens back", async () => {
    const clock = new FakeClock(0);
    const limiter = new LocalLimiter(2, 2, clock);
    assert.equal(limiter.reserve(10), 2);
    let woke = false;
    const wait = limiter.nextToken(new AbortController().signal).then(() => (woke = true));
    await clock.advance(5_000);
    assert.equal(woke, false, "both tokens are held by the receive under way");
    limiter.settle(2, 1);
    await wait;
    assert.equal(limiter.reserve(10), 1);
    const next = limiter.nextToken(new AbortController().signal).then(() => (woke = false));
    await clock.advance(499);
    assert.equal(woke, true);
    await clock.advance(1);
    await next;
    assert.equal(clock.live, 0);
  });
  it("lets a backlogged suffix have tokens while another suffix of the queue long-polls an idle queue", async () => {
    // Two suffixes share one bucket (5/s, burst 5): A's queue is empty, B's has a backlog.
    const clock = new FakeClock(0);
    const limiter = new LocalLimiter(5, 5, clock);
    const a = limiter.reserve(10);
    assert.equal(a, 5, "A's first long poll takes what it may");
    assert.equal(limiter.reserve(10), 0, "B waits for a token");
    const bWaits = limiter.nextToken(new AbortController().signal);
    await clock.advance(20_000);
    // A's long poll returns empty and A (no idle backoff) asks again in the same turn, before B wakes.
    limiter.settle(a, 0);
    const again = limiter.reserve(10);
    await bWaits;
    const b = limiter.reserve(10);
    assert.ok(b > 0, `B got no token: A's empty long poll took ${again} again`);
    // B's full receive keeps B's share; A, still idle, holds one token per long poll.
    limiter.settle(b, b);
    limiter.settle(again, 0);
    assert.equal(limiter.reserve(10), 1);
  });
});

describe("QueueGate", () => {
  it("receives nothing while a RateLimited pause lasts, then as the limit allows", async () => {
    const clock = new FakeClock(0);
    const gate = new QueueGate(undefined, clock);
    assert.equal(gate.reserve(7), 7);
    gate.pause(3);
    assert.equal(gate.reserve(7), 0);
    assert.equal(gate.status().limited, true);
    let ready = false;
    const wait = gate.ready(new AbortController().signal).then(() => (ready = true));
    await clock.advance(2_999);
    assert.equal(ready, false);
    await clock.advance(1);
    await wait;
    await settle();
    assert.equal(gate.reserve(7), 7);
    assert.deepEqual(gate.status(), {
      perSecond: undefined,
      burst: undefined,
      shared: false,
      limited: false,
      pausedUntil: undefined,
      waits: 1,
    });
  });
});

describe("rateLimit option", () => {
  it("takes perSecond or perMinute, and a burst that defaults to a second's worth", () => {
    assert.deepEqual(resolveRateLimit({ perSecond: 14 }), { perSecond: 14, burst: 14 });
    assert.deepEqual(resolveRateLimit({ perMinute: 30 }), { perSecond: 0.5, burst: 1 });
    assert.deepEqual(resolveRateLimit({ perSecond: 5, burst: 20 }), { perSecond: 5, burst: 20 });
    validate(receiverOptionsSchema, { rateLimit: { perSecond: 5, shared: true } }, "queue q");
    assert.throws(
      () => validate(receiverOptionsSchema, { rateLimit: { perSecond: 5, perMinute: 300 } }, "queue q"),
      /rateLimit must give exactly one of perSecond and perMinute/,
    );
    assert.throws(
      () => validate(receiverOptionsSchema, { rateLimit: { perSecond: 0 } }, "queue q"),
      /rateLimit.perSecond/,
    );
  });
});

/** A window counter in memory: `points` per window of `windowMs`, windows aligned on the fake clock. */
function memoryCounter(clock: FakeClock, points: number, windowMs: number, failing: () => boolean) {
  let window = -1;
  let taken = 0;
  return {
    points,
    takes: 0,
    async take(wanted: number) {
      this.takes += 1;
      if (failing()) throw new Error("ECONNREFUSED");
      const current = Math.floor(clock.now() / windowMs);
      if (current !== window) [window, taken] = [current, 0];
      const got = Math.min(wanted, points - taken);
      taken += got;
      return { got, msLeft: (current + 1) * windowMs - clock.now() };
    },
    async close() {},
  };
}

describe("SharedLimiter", () => {
  it("reserves only tokens taken from the store's current window: one while idle, lapsing with the window", async () => {
    const clock = new FakeClock(0);
    const counter = memoryCounter(clock, 5, 1_000, () => false);
    const failures: unknown[] = [];
    const limiter = new SharedLimiter(counter, 5, 5, (error) => failures.push(error), clock);
    // Idle: a long poll holds one token, not the window's five.
    assert.equal(await limiter.reserve(10), 1);
    limiter.settle(1, 1);
    // A full answer: the next receive asks for the rest of the window.
    assert.equal(await limiter.reserve(10), 4);
    limiter.settle(4, 4);
    assert.equal(await limiter.reserve(10), 0, "the window is spent");
    let ready = false;
    const wait = limiter.nextToken(new AbortController().signal).then(() => (ready = true));
    await clock.advance(999);
    assert.equal(ready, false);
    await clock.advance(1);
    await wait;
    assert.equal(await limiter.reserve(10), 5);
    // A receive that brings 2 of 5 gives 3 back to this replica's hand, for this window only.
    limiter.settle(5, 2);
    await clock.advance(1_000);
    const takes = counter.takes;
    assert.equal(await limiter.reserve(10), 5);
    assert.equal(counter.takes, takes + 1, "the lapsed tokens were not used: new ones came from the store");
  });

  it("closes the limit while the store cannot be reached, and says so once", async () => {
    const clock = new FakeClock(0);
    let down = true;
    const counter = memoryCounter(clock, 5, 1_000, () => down);
    const failures: unknown[] = [];
    const limiter = new SharedLimiter(counter, 5, 5, (error) => failures.push(error), clock);
    assert.equal(await limiter.reserve(10), 0);
    await clock.advance(1_000);
    assert.equal(await limiter.reserve(10), 0);
    assert.equal(failures.length, 1);
    down = false;
    await clock.advance(1_000);
    assert.equal(await limiter.reserve(10), 1);
  });

  it("counts in whole-second windows of at least one token", () => {
    assert.deepEqual(sharedWindow(5, 5), { seconds: 1, points: 5 });
    assert.deepEqual(sharedWindow(0.5, 1), { seconds: 2, points: 1 });
    assert.deepEqual(sharedWindow(14, 28), { seconds: 2, points: 28 });
  });
});
