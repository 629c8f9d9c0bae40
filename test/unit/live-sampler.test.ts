import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CachedQueueStatus, QueueStatus } from "../../src/admin/queue-status.js";
import { LiveSampler } from "../../src/http/live-sampler.js";
import { SupervisorEmitter } from "../../src/supervisor/events.js";
import type { Supervisor } from "../../src/supervisor/supervisor.js";

/** The sampler's depth point, from a stand-in status cache whose last good read is as old as a test says. */
describe("the dashboard sampler's queue depth", () => {
  function depthWithReadAged(ageMs: number, statusCacheMs: number) {
    const queues = [{ name: "ok", exists: true, visible: 7, inFlight: 1, delayed: 0 }] as unknown as QueueStatus[];
    const status = { lastGood: { asOf: new Date(Date.now() - ageMs), queues } } as unknown as CachedQueueStatus;
    const sampler = new LiveSampler(
      {
        supervisor: { events: new SupervisorEmitter() } as unknown as Supervisor,
        pool: { threadCount: 1, threadReplacements: 0 },
        sqsRequests: new Map(),
        status,
        controls: { enabled: false, needsToken: false, reason: "test" },
        version: "test",
      },
      { intervalMs: 3_600_000, statusCacheMs },
    );
    sampler.tick();
    sampler.stop();
    return sampler.history()[0]?.depth;
  }

  it("charts a read younger than twice the cache time", () => {
    assert.equal(depthWithReadAged(1_000, 30_000)?.visible, 7);
    assert.equal(depthWithReadAged(50_000, 30_000)?.visible, 7);
  });

  it("leaves a gap rather than repeat a read older than twice the cache time (nobody watched)", () => {
    assert.equal(depthWithReadAged(61_000, 30_000), null);
    assert.equal(depthWithReadAged(15 * 60_000, 30_000), null);
  });

  it("allows a slow read at least 10 s with a short cache", () => {
    assert.equal(depthWithReadAged(5_000, 1_000)?.visible, 7);
    assert.equal(depthWithReadAged(11_000, 1_000), null);
  });
});
