import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { OperationsServer } from "../../src/http/server.js";
import { startOperationsServer, type TestServerOptions } from "../helpers/operations-server.js";

const REFUSED = "http control request refused";
const JSON_TYPE = { "content-type": "application/json" };

/** The control routes' access rules, on a real HTTP server with a stand-in supervisor. */
describe("control route access", () => {
  let server: OperationsServer | undefined;
  afterEach(() => server?.stop());

  async function start(options: TestServerOptions) {
    const started = await startOperationsServer(options);
    server = started.server;
    return started;
  }

  it("refuses control routes when no token is configured", async () => {
    const { base, calls } = await start({});
    const response = await fetch(`${base}/pause`, { method: "POST", headers: JSON_TYPE });
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as { error: string }).error, /set http\.token/);
    assert.deepEqual(calls, []);
  });

  it("serves them without a token only when explicitly allowed, and only to requests no form can send", async () => {
    const { base, calls } = await start({ allowUnauthenticatedControl: true });
    assert.equal((await fetch(`${base}/pause`, { method: "POST", headers: JSON_TYPE })).status, 200);
    assert.equal(
      (
        await fetch(`${base}/resume`, {
          method: "POST",
          headers: { "content-type": "application/json; charset=utf-8" },
        })
      ).status,
      200,
    );
    assert.equal(
      (await fetch(`${base}/wake`, { method: "POST", headers: { authorization: "Basic eDp5" } })).status,
      200,
    );
    assert.deepEqual(calls, ["pause", "resume", "wake"]);
  });

  it("refuses a form POST (a cross-site page could send it) when no token guards control", async () => {
    const { base, calls } = await start({ allowUnauthenticatedControl: true });
    const forms = [
      { body: new URLSearchParams({ a: "b" }) },
      { body: new FormData() },
      { body: "x", headers: { "content-type": "text/plain" } },
      {},
    ];
    for (const form of forms) {
      const response = await fetch(`${base}/pause`, { method: "POST", ...form });
      assert.equal(response.status, 415);
      assert.match(((await response.json()) as { error: string }).error, /application\/json/);
    }
    assert.deepEqual(calls, [], "nothing was paused");
  });

  it("with a token, accepts only that token, whatever else is allowed", async () => {
    const { base, calls } = await start({ token: "abc", allowUnauthenticatedControl: true });
    assert.equal((await fetch(`${base}/wake`, { method: "POST", headers: JSON_TYPE })).status, 401);
    for (const guess of ["abd", "ab", "abcd"]) {
      const headers = { authorization: `Bearer ${guess}` };
      assert.equal((await fetch(`${base}/wake`, { method: "POST", headers })).status, 401);
    }
    const headers = { authorization: "Bearer abc" };
    assert.equal((await fetch(`${base}/wake`, { method: "POST", headers })).status, 200);
    assert.deepEqual(calls, ["wake"]);
  });

  it("logs refused attempts with the remote address and reason, never the token tried, at most 10 a minute", async () => {
    const { base, records } = await start({ token: "abc" });
    const guess = "guessed-token-value";
    assert.equal((await fetch(`${base}/pause`, { method: "POST" })).status, 401);
    for (let attempt = 0; attempt < 14; attempt += 1) {
      const headers = { authorization: `Bearer ${guess}` };
      assert.equal((await fetch(`${base}/pause`, { method: "POST", headers })).status, 401);
    }
    const refused = records.filter((record) => record.message === REFUSED) as unknown as Record<string, unknown>[];
    assert.equal(refused.length, 10, "the rest of the minute's refusals are held back");
    assert.deepEqual(JSON.parse(JSON.stringify(refused[0])), {
      level: "warn",
      message: REFUSED,
      route: "POST /pause",
      status: 401,
      reason: "no bearer token",
      remoteAddress: "127.0.0.1",
    });
    assert.equal(refused[1]?.["reason"], "wrong bearer token");
    assert.ok(!JSON.stringify(records).includes(guess), "the token tried is never logged");
  });

  it("logs refusals of control routes that are off, and of form POSTs", async () => {
    const off = await start({});
    await fetch(`${off.base}/wake`, { method: "POST" });
    assert.deepEqual(
      off.records.filter((record) => record.message === REFUSED).map((record) => record["status" as never]),
      [403],
    );
    await server?.stop();
    const open = await start({ allowUnauthenticatedControl: true });
    await fetch(`${open.base}/wake`, { method: "POST", body: new URLSearchParams({ a: "b" }) });
    assert.deepEqual(
      open.records.filter((record) => record.message === REFUSED).map((record) => record["status" as never]),
      [415],
    );
  });

  it("warns at start-up when control needs no token and the endpoint listens beyond this host", async () => {
    const warning = /need no token and the endpoint listens beyond this host/;
    const cases: [TestServerOptions, boolean][] = [
      [{ host: "0.0.0.0", allowUnauthenticatedControl: true }, true],
      [{ host: "127.0.0.1", allowUnauthenticatedControl: true }, false],
      [{ host: "0.0.0.0", allowUnauthenticatedControl: true, token: "abc" }, false],
      [{ host: "0.0.0.0" }, false],
    ];
    for (const [options, warns] of cases) {
      const { records } = await start(options);
      const warned = records.filter((record) => warning.test(record.message));
      assert.equal(warned.length, warns ? 1 : 0, JSON.stringify(options));
      if (warns) assert.equal(warned[0]?.level, "warn");
      await server?.stop();
      server = undefined;
    }
  });
});
