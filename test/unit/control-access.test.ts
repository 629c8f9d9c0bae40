import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { bearerMatches, isLoopbackHost, isPreflightedRequest } from "../../src/http/control-access.js";
import { RateLimit } from "../../src/util/rate-limit.js";

/** The pure parts of the control routes' access rules; the rules on a real server are in integration/. */
describe("control access", () => {
  it("matches a bearer token exactly, whatever the lengths", () => {
    assert.equal(bearerMatches("Bearer s3cret", "s3cret"), true);
    assert.equal(bearerMatches("bearer s3cret", "s3cret"), true, "the scheme is case-insensitive");
    for (const header of [undefined, "", "Bearer ", "Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET", "s3cret"]) {
      assert.equal(bearerMatches(header, "s3cret"), false, String(header));
    }
    assert.equal(bearerMatches(`Bearer ${"x".repeat(10_000)}`, "s3cret"), false, "a very long guess is just wrong");
  });

  it("takes only an Authorization header or a JSON content type as proof of a non-form request", () => {
    const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    assert.equal(isPreflightedRequest(request({ authorization: "Bearer x" })), true);
    assert.equal(isPreflightedRequest(request({ "content-type": "application/json" })), true);
    assert.equal(isPreflightedRequest(request({ "content-type": "Application/JSON; charset=utf-8" })), true);
    for (const type of ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", ""]) {
      assert.equal(isPreflightedRequest(request({ "content-type": type })), false, type);
    }
    assert.equal(isPreflightedRequest(request({})), false);
  });

  it("knows loopback hosts from the rest", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST", "::ffff:127.0.0.1"]) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "myhost.internal", "fe80::1"]) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });
});

describe("RateLimit", () => {
  it("lets `limit` through per window and reports how many it held back with the next one", () => {
    let now = 0;
    const limit = new RateLimit(2, 60_000, () => now);
    assert.deepEqual(limit.take(), { allowed: true, heldBack: 0 });
    assert.deepEqual(limit.take(), { allowed: true, heldBack: 0 });
    assert.deepEqual(limit.take(), { allowed: false });
    assert.deepEqual(limit.take(), { allowed: false });
    now = 59_999;
    assert.deepEqual(limit.take(), { allowed: false });
    now = 60_000;
    assert.deepEqual(limit.take(), { allowed: true, heldBack: 3 });
    assert.deepEqual(limit.take(), { allowed: true, heldBack: 0 });
  });
});
