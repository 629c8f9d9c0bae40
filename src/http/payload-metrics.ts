import { Counter, type Registry } from "prom-client";
import type { Supervisor } from "../supervisor/supervisor.js";

/**
 * Metrics of large payloads (config `largePayloads`): messages whose bodies went through S3, the bytes, and
 * what failed. Sends are those of this daemon's handlers; a web app's sends are counted nowhere here.
 */
export function registerPayloadMetrics(registry: Registry, supervisor: Supervisor): void {
  const registers = [registry];
  const sends = new Counter({
    name: "sqsd_payloads_offloaded_sends_total",
    help: "Bodies this daemon's handlers sent through S3 (largePayloads).",
    registers,
  });
  const receives = new Counter({
    name: "sqsd_payloads_offloaded_receives_total",
    help: "Received messages whose bodies were read from S3.",
    labelNames: ["queue"],
    registers,
  });
  const bytes = new Counter({
    name: "sqsd_payloads_s3_bytes_total",
    help: "Body bytes through S3: direction sent (PutObject) or received (GetObject).",
    labelNames: ["direction"],
    registers,
  });
  const fetchFailures = new Counter({
    name: "sqsd_payloads_fetch_failures_total",
    help: "Messages whose bodies could not be read from S3 (missing object, S3 error): decode failures.",
    labelNames: ["queue"],
    registers,
  });
  const deleted = new Counter({
    name: "sqsd_payloads_deleted_total",
    help: "S3 objects deleted after their messages (deleteAfterProcessing).",
    labelNames: ["queue"],
    registers,
  });
  const deleteFailures = new Counter({
    name: "sqsd_payloads_delete_failures_total",
    help: "S3 objects that could not be deleted after their messages; they stay in the bucket.",
    labelNames: ["queue"],
    registers,
  });
  const { events } = supervisor;
  events.on("payloadsSent", (count, sentBytes) => {
    sends.inc(count);
    bytes.inc({ direction: "sent" }, sentBytes);
  });
  events.on("payloadReceived", (queue, receivedBytes) => {
    receives.inc({ queue });
    bytes.inc({ direction: "received" }, receivedBytes);
  });
  events.on("payloadFetchFailed", (queue) => fetchFailures.inc({ queue }));
  events.on("payloadDeleted", (queue) => deleted.inc({ queue }));
  events.on("payloadDeleteFailed", (queue) => deleteFailures.inc({ queue }));
}
