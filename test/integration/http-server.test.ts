import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { CachedQueueStatus } from "../../src/admin/queue-status.js";
import type { Metrics } from "../../src/http/metrics.js";
import { OperationsServer } from "../../src/http/server.js";
import type { Supervisor } from "../../src/supervisor/supervisor.js";
import { memoryLogger } from "../helpers/memory-logger.js";

/**
 * The control routes' access rules, on a real HTTP server with a stand-in supervisor: routing and access
 * control are logic of their own. The endpoint against a real daemon is in e2e/http.test.ts.
 */
describe("control route access", () => {
  let server: OperationsServer | undefined;
  afterEach(() => server?.stop());

  async function start(http: { token?: string; allowUnauthenticatedControl?: boolean }) {
    const calls: string[] = [];
    const supervisor = {
      wake: () => void calls.push("wake"),
      pause: () => (calls.push("pause"), true),
      resume: () => (calls.push("resume"), true),
      health: () => ({ state: "running", inFlight: 0, maxInFlight: 1, processed: 0, pollers: [] }),
    } as unknown as Supervisor;
    server = new OperationsServer({
      http: {
        port: 0,
        host: "127.0.0.1",
        token: http.token,
        allowUnauthenticatedControl: http.allowUnauthenticatedControl ?? false,
        statusCacheSeconds: 0,
      },
      stallSeconds: 60,
      supervisor,
      metrics: {} as Metrics,
      status: {} as CachedQueueStatus,
      logger: memoryLogger().logger,
    });
    return { base: await server.start(), calls };
  }

  it("refuses control routes when no token is configured", async () => {
    const { base, calls } = await start({});
    const response = await fetch(`${base}/pause`, { method: "POST" });
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as { error: string }).error, /set http\.token/);
    assert.deepEqual(calls, []);
  });

  it("serves them without a token only when explicitly allowed", async () => {
    const { base, calls } = await start({ allowUnauthenticatedControl: true });
    assert.equal((await fetch(`${base}/pause`, { method: "POST" })).status, 200);
    assert.equal((await fetch(`${base}/resume`, { method: "POST" })).status, 200);
    assert.deepEqual(calls, ["pause", "resume"]);
  });

  it("with a token, accepts only that token, whatever else is allowed", async () => {
    const { base, calls } = await start({ token: "abc", allowUnauthenticatedControl: true });
    assert.equal((await fetch(`${base}/wake`, { method: "POST" })).status, 401);
    assert.equal(
      (await fetch(`${base}/wake`, { method: "POST", headers: { authorization: "Bearer abd" } })).status,
      401,
    );
    assert.equal(
      (await fetch(`${base}/wake`, { method: "POST", headers: { authorization: "Bearer abc" } })).status,
      200,
    );
    assert.deepEqual(calls, ["wake"]);
  });
});
