import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { STATUS_WAIT_MS, type CachedQueueStatus } from "../admin/queue-status.js";
import type { HandlerPool } from "../pool/pool.js";
import { countSqsRequests, type SqsRequestSource } from "../sqs/request-counter.js";
import { FAILURE_PHASES } from "../pool/protocol.js";
import type { Supervisor } from "../supervisor/supervisor.js";
import { registerPayloadMetrics } from "./payload-metrics.js";
import type { ScheduleRunner } from "../schedules/runner.js";
import { registerScheduleMetrics } from "./schedule-metrics.js";

/** What the metrics read from. */
export interface MetricsSources {
  readonly supervisor: Supervisor;
  readonly pool: HandlerPool;
  /** Every SQS client the daemon sends with, and the lean paths beside them: their requests are counted. */
  readonly clients: readonly SqsRequestSource[];
  /** Queue depths, cached so that scrapes cannot run up the SQS bill. */
  readonly status: CachedQueueStatus;
  /** The cron schedules, when the config has any. @defaultValue none */
  readonly schedules?: ScheduleRunner | undefined;
}

/**
 * The daemon's Prometheus metrics, in a registry of their own (never the process-wide default, so embedding
 * apps keep theirs). Counters follow the supervisor's events; gauges are read at scrape time. SQS requests
 * are counted per attempt, retries included, because that is what AWS bills. Requests per message is
 * `sum(sqsd_sqs_requests_total) / sum(sqsd_messages_received_total)`.
 */
export class Metrics {
  readonly registry = new Registry();
  /** SQS requests sent so far by action (`ReceiveMessage`, ...), retries included: the dashboard's rates read it. */
  readonly sqsRequests = new Map<string, number>();

  constructor(sources: MetricsSources) {
    const { supervisor, pool, clients, status } = sources;
    const registers = [this.registry];
    const received = new Counter({
      name: "sqsd_messages_received_total",
      help: "Messages received.",
      labelNames: ["queue"],
      registers,
    });
    const succeeded = new Counter({
      name: "sqsd_messages_succeeded_total",
      help: "Handler runs that succeeded.",
      labelNames: ["queue"],
      registers,
    });
    const failed = new Counter({
      name: "sqsd_messages_failed_total",
      help: `Handler runs that failed, by phase (${FAILURE_PHASES.join(", ")}).`,
      labelNames: ["queue", "phase"],
      registers,
    });
    const restarted = new Counter({
      name: "sqsd_messages_restarted_total",
      help: "Messages left for later with RestartLater.",
      labelNames: ["queue"],
      registers,
    });
    const interrupted = new Counter({
      name: "sqsd_messages_interrupted_total",
      help: "Handler runs interrupted by a shutdown.",
      labelNames: ["queue"],
      registers,
    });
    const duplicates = new Counter({
      name: "sqsd_messages_duplicate_total",
      help: "Deliveries of an idempotent receiver whose key had completed before: deleted without running the handler (counted as succeeded too).",
      labelNames: ["queue"],
      registers,
    });
    const deleted = new Counter({
      name: "sqsd_messages_deleted_total",
      help: "Messages deleted from their queue.",
      labelNames: ["queue"],
      registers,
    });
    const duration = new Histogram({
      name: "sqsd_handler_duration_seconds",
      help: "Handler run time.",
      labelNames: ["queue"],
      buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 120, 600],
      registers,
    });
    const pollErrors = new Counter({
      name: "sqsd_poll_errors_total",
      help: "Failed receives.",
      labelNames: ["queue"],
      registers,
    });
    const restarts = new Counter({
      name: "sqsd_poller_restarts_total",
      help: "Stalled pollers the watchdog restarted.",
      labelNames: ["queue"],
      registers,
    });
    supervisor.events.on("pollerRestarted", (queue) => restarts.inc({ queue }));
    const rateLimited = new Counter({
      name: "sqsd_rate_limited_total",
      help: "Rate limiting by queue: cause=limit counts receives that waited for a token (or a RateLimited pause), cause=handler counts RateLimited throws.",
      labelNames: ["queue", "cause"],
      registers,
    });
    supervisor.events.on("receiveLimited", (queue) => rateLimited.inc({ queue, cause: "limit" }));
    supervisor.events.on("rateLimited", (queue) => rateLimited.inc({ queue, cause: "handler" }));
    const requests = new Counter({
      name: "sqsd_sqs_requests_total",
      help: "SQS requests sent, retries included.",
      labelNames: ["action"],
      registers,
    });

    supervisor.events.on("received", (queue, count) => received.inc({ queue }, count));
    supervisor.events.on("deleted", (queue) => deleted.inc({ queue }));
    supervisor.events.on("pollError", (queue) => pollErrors.inc({ queue }));
    supervisor.events.on("duplicate", (queue) => duplicates.inc({ queue }));
    supervisor.events.on("settled", (queue, outcome, durationMs, phase) => {
      if (durationMs !== undefined) duration.observe({ queue }, durationMs / 1000);
      if (outcome === "ok") succeeded.inc({ queue });
      else if (outcome === "failed") failed.inc({ queue, phase: phase ?? "handler" });
      else if (outcome === "restartLater") restarted.inc({ queue });
      else if (outcome === "interrupted") interrupted.inc({ queue });
    });

    new Gauge({
      name: "sqsd_messages_in_flight",
      help: "Messages running now (each holds a pool slot).",
      registers,
      collect() {
        this.set(supervisor.health().inFlight);
      },
    });
    new Gauge({
      name: "sqsd_messages_buffered",
      help: "Messages received ahead and waiting for a pool slot, per queue (their visibility is kept).",
      labelNames: ["queue"],
      registers,
      collect() {
        this.reset();
        for (const load of supervisor.health().queues) this.set({ queue: load.queue }, load.buffered);
      },
    });
    new Gauge({
      name: "sqsd_max_in_flight",
      help: "The in-flight limit (pool.maxInFlight).",
      registers,
      collect() {
        this.set(supervisor.health().maxInFlight);
      },
    });
    new Gauge({
      name: "sqsd_pool_utilization",
      help: "Share of the pool's time spent running handlers (0..1).",
      registers,
      collect() {
        this.set(pool.utilization);
      },
    });
    new Gauge({
      name: "sqsd_pool_threads",
      help: "Worker threads alive.",
      registers,
      collect() {
        this.set(pool.threadCount);
      },
    });
    new Gauge({
      name: "sqsd_queue_messages",
      help: "Messages in each consumed queue by state (visible, in_flight, delayed), cached for http.statusCacheSeconds.",
      labelNames: ["queue", "state"],
      registers,
      async collect() {
        const snapshot = await status.latest(STATUS_WAIT_MS);
        this.reset();
        for (const queue of snapshot?.queues ?? []) {
          this.set({ queue: queue.name, state: "visible" }, queue.visible);
          this.set({ queue: queue.name, state: "in_flight" }, queue.inFlight);
          this.set({ queue: queue.name, state: "delayed" }, queue.delayed);
          if (queue.deadLetter) this.set({ queue: queue.deadLetter.name, state: "visible" }, queue.deadLetter.visible);
        }
      },
    });
    new Gauge({
      name: "sqsd_queue_status_age_seconds",
      help: "Age of the queue counts in sqsd_queue_messages: beyond http.statusCacheSeconds, SQS could not be read.",
      registers,
      async collect() {
        const snapshot = await status.latest(STATUS_WAIT_MS);
        this.reset();
        if (snapshot) this.set((Date.now() - snapshot.asOf.getTime()) / 1000);
      },
    });
    if (sources.schedules) registerScheduleMetrics(this.registry, sources.schedules);
    collectDefaultMetrics({ register: this.registry, prefix: "sqsd_" });
    registerPayloadMetrics(this.registry, supervisor);

    // Every attempt counts, retries included: that is what SQS bills.
    for (const client of clients) {
      countSqsRequests(client, (action) => {
        requests.inc({ action });
        this.sqsRequests.set(action, (this.sqsRequests.get(action) ?? 0) + 1);
      });
    }
  }

  /** The exposition text, and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
