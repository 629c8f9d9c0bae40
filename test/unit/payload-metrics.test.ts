import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { registerPayloadMetrics } from "../../src/http/payload-metrics.js";
import { SupervisorEmitter } from "../../src/supervisor/events.js";
import type { Supervisor } from "../../src/supervisor/supervisor.js";

describe("large-payload metrics", () => {
  it("count offloaded sends and receives, bytes each way, fetch failures and object deletes", async () => {
    const registry = new Registry();
    const events = new SupervisorEmitter();
    registerPayloadMetrics(registry, { events } as unknown as Supervisor);

    events.emit("payloadsSent", 2, 3_000);
    events.emit("payloadReceived", "shop__exports", 5_242_880);
    events.emit("payloadFetchFailed", "shop__exports");
    events.emit("payloadDeleted", "shop__exports");
    events.emit("payloadDeleteFailed", "shop__exports");
    const text = await registry.metrics();

    for (const line of [
      "sqsd_payloads_offloaded_sends_total 2",
      'sqsd_payloads_s3_bytes_total{direction="sent"} 3000',
      'sqsd_payloads_s3_bytes_total{direction="received"} 5242880',
      'sqsd_payloads_offloaded_receives_total{queue="shop__exports"} 1',
      'sqsd_payloads_fetch_failures_total{queue="shop__exports"} 1',
      'sqsd_payloads_deleted_total{queue="shop__exports"} 1',
      'sqsd_payloads_delete_failures_total{queue="shop__exports"} 1',
    ]) {
      assert.ok(text.includes(line), `${line} in\n${text}`);
    }
  });
});
