import type { CachedQueueStatus, QueueStatus } from "../admin/queue-status.js";
import type { ScheduleStatus } from "../schedules/runner.js";
import type { Supervisor } from "../supervisor/supervisor.js";
import { RingBuffer } from "../util/ring-buffer.js";

/** One point of the dashboard's charts: rates over the interval that ends at `t`. */
export interface LiveSample {
  /** End of the interval (epoch ms). */
  readonly t: number;
  /** Handler runs that ended in the interval, per second, by outcome. */
  readonly processedPerSecond: { readonly ok: number; readonly failed: number; readonly restartLater: number };
  /** Handler run time of the runs that ended in the interval (ms); null when none ended. */
  readonly durationMs: { readonly p50: number; readonly p95: number } | null;
  /** Message counts summed over the consumed queues, from the last status read; null before the first. */
  readonly depth: {
    readonly visible: number;
    readonly inFlight: number;
    readonly delayed: number;
    readonly deadLetters: number;
  } | null;
  /** SQS requests per second in the interval, by action (`ReceiveMessage`, `DeleteMessageBatch`, ...). */
  readonly sqsRequestsPerSecond: Readonly<Record<string, number>>;
}

/** A queue's row on the dashboard. */
export interface LiveQueue {
  readonly name: string;
  /** False when the queue was missing at the last status read; its counts are then 0. */
  readonly exists: boolean;
  readonly visible: number | null;
  readonly inFlight: number | null;
  readonly delayed: number | null;
  readonly deadLetter: { readonly name: string; readonly visible: number } | null;
  /** Received by this daemon and waiting for a slot. */
  readonly buffered: number;
  /** Running in this daemon now. */
  readonly running: number;
  readonly weight: number;
  /** Null when the queue sets no limit of its own (the pool's capacity applies). */
  readonly concurrency: number | null;
  /** Paused on its own (`POST /pause?queue=`); a daemon-wide pause shows in the daemon's state. */
  readonly paused: boolean;
  /** Its receives wait for a token of its `rateLimit`, or for a `RateLimited` pause to end. */
  readonly rateLimited: boolean;
  /**
   * The last failed run's error class and when (epoch ms). Not its message: the state goes to anyone who can
   * reach the port, and messages often hold ARNs, hosts or echoed values; {@link LiveSampler.lastErrors} has
   * them, for the token-protected `GET /errors`.
   */
  readonly lastError: { readonly name: string; readonly at: number } | null;
}

/** A queue's last failed run: error class, message (at most {@link ERROR_MESSAGE_MAX_CHARS}) and time. */
export interface LiveError {
  readonly name: string;
  readonly message: string;
  /** Epoch ms. */
  readonly at: number;
}

/**
 * Longest error message kept (longer ones are cut, with "…"): enough to tell one failure from another, and a
 * handler that throws a megabyte-long message does not have it re-sent to every viewer.
 */
export const ERROR_MESSAGE_MAX_CHARS = 200;

/** The daemon's state and its queue table, as of `t`. */
export interface LiveState {
  readonly t: number;
  readonly daemon: {
    readonly state: "starting" | "running" | "paused" | "draining" | "stopped";
    /** While draining: what the drain still waits for. */
    readonly drainingFor: { readonly running: number; readonly buffered: number; readonly receives: number } | null;
    readonly inFlight: number;
    readonly maxInFlight: number;
    readonly buffered: number;
    readonly processed: number;
    readonly threads: number;
    readonly threadReplacements: number;
    readonly uptimeSeconds: number;
    readonly version: string;
    readonly nodeVersion: string;
  };
  /** Whether the page may offer pause, resume and wake, and why not. */
  readonly controls: { readonly enabled: boolean; readonly needsToken: boolean; readonly reason: string | null };
  /** When the queue counts were read from SQS (epoch ms); null before the first read. */
  readonly statusAsOf: number | null;
  readonly queues: readonly LiveQueue[];
  /** The cron schedules this daemon runs, as /status.json shows them; empty without any. */
  readonly schedules: readonly ScheduleStatus[];
}

/** What the sampler reads; nothing here sends an SQS request except `status.get`, bounded by its cache. */
export interface LiveSources {
  readonly supervisor: Supervisor;
  readonly pool: { readonly threadCount: number; readonly threadReplacements: number };
  /** SQS requests sent so far by action (Metrics.sqsRequests). */
  readonly sqsRequests: ReadonlyMap<string, number>;
  readonly status: CachedQueueStatus;
  readonly controls: LiveState["controls"];
  readonly version: string;
  /** The cron schedules (config `schedules`); their state is kept in memory, so reading it costs no request. */
  readonly schedules?: { status(): ScheduleStatus[] } | undefined;
}

/** {@link LiveSampler}'s options. */
export interface LiveSamplerOptions {
  /** How often a sample is taken. @defaultValue {@link SAMPLE_INTERVAL_MS} */
  readonly intervalMs?: number;
  /** Samples kept. @defaultValue {@link HISTORY_POINTS} */
  readonly historyPoints?: number;
  /**
   * How long the status cache keeps a queue-count read (`http.statusCacheSeconds`): a sample's depth is null
   * (a gap in the chart) when the last good read is older than twice this, or 10 s, whichever is longer.
   * @defaultValue 30_000, the config's default
   */
  readonly statusCacheMs?: number;
}

/**
 * The shortest age at which a queue-count read stops being charted: a read takes up to a few seconds, so
 * with a short cache a read that is merely slow does not punch gaps in the chart.
 */
const MIN_DEPTH_FRESH_MS = 10_000;

/** How often the sampler takes a point. @defaultValue 1 s, the "every 1 to 2 s" */
export const SAMPLE_INTERVAL_MS = 1_000;
/** Points kept: 15 minutes at one a second. */
export const HISTORY_POINTS = 900;
/** Durations kept per interval for the percentiles, so that a burst cannot grow memory without bound. */
const DURATIONS_KEPT = 10_000;

/**
 * The dashboard's one sampler per daemon: every {@link SAMPLE_INTERVAL_MS} it turns the supervisor's events
 * and counters into a {@link LiveSample}, kept in a ring buffer of the last 15 minutes, and builds the
 * {@link LiveState}; listeners (the SSE stream) get both. It costs the same with no viewer or a hundred, and
 * it reads SQS only through the status cache, and only while someone watches (`watched()`).
 */
export class LiveSampler {
  readonly #sources: LiveSources;
  readonly #intervalMs: number;
  readonly #depthFreshMs: number;
  readonly #history: RingBuffer<LiveSample>;
  readonly #listeners = new Set<(sample: LiveSample, state: LiveState) => void>();
  readonly #lastErrors = new Map<string, LiveError>();
  readonly #startedAt = Date.now();
  #outcomes = { ok: 0, failed: 0, restartLater: 0 };
  #durations: number[] = [];
  #durationsSeen = 0;
  #lastSqs = new Map<string, number>();
  #lastTickAt = Date.now();
  #timer: NodeJS.Timeout | undefined;
  readonly #unsubscribe: () => void;

  constructor(sources: LiveSources, options: LiveSamplerOptions = {}) {
    this.#sources = sources;
    this.#depthFreshMs = Math.max(2 * (options.statusCacheMs ?? 30_000), MIN_DEPTH_FRESH_MS);
    this.#intervalMs = options.intervalMs ?? SAMPLE_INTERVAL_MS;
    this.#history = new RingBuffer(options.historyPoints ?? HISTORY_POINTS);
    const { events } = sources.supervisor;
    const onSettled = (_queue: string, outcome: string, durationMs: number | undefined): void => {
      if (outcome === "ok" || outcome === "failed" || outcome === "restartLater") this.#outcomes[outcome] += 1;
      if (durationMs !== undefined) this.#keepDuration(durationMs);
    };
    const onFailed = (queue: string, error: { name: string; message: string }): void => {
      this.#lastErrors.set(queue, { name: error.name, message: truncate(error.message), at: Date.now() });
    };
    events.on("settled", onSettled);
    events.on("failed", onFailed);
    this.#unsubscribe = () => {
      events.off("settled", onSettled);
      events.off("failed", onFailed);
    };
  }

  /**
   * Each queue's last failed run with its (truncated) message, by full queue name: for viewers who hold the
   * HTTP token only.
   */
  lastErrors(): Record<string, LiveError> {
    return Object.fromEntries(this.#lastErrors);
  }

  /** Starts sampling. Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#lastTickAt = Date.now();
    this.#lastSqs = new Map(this.#sources.sqsRequests);
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops sampling and forgets its listeners. */
  stop(): void {
    clearInterval(this.#timer);
    this.#unsubscribe();
    this.#listeners.clear();
  }

  /** Hears each sample and state as it is taken; returns the unsubscribe function. */
  listen(listener: (sample: LiveSample, state: LiveState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The last 15 minutes of samples, oldest first. */
  history(): LiveSample[] {
    return this.#history.toArray();
  }

  /** The state as of now. */
  state(): LiveState {
    return this.#buildState(Date.now());
  }

  /** Takes one sample now (the timer calls it; tests may too). */
  tick(): void {
    const now = Date.now();
    // Queue counts come from the status cache: one SQS read per statusCacheSeconds while anyone watches,
    // however many do, and none at all while no one does (the chart's depth then has a gap once the last
    // read is stale).
    if (this.#listeners.size > 0) this.#sources.status.get(now).catch(() => undefined);
    const sample = this.#sample(now);
    this.#history.push(sample);
    if (this.#listeners.size === 0) return;
    const state = this.#buildState(now);
    for (const listener of this.#listeners) listener(sample, state);
  }

  #keepDuration(durationMs: number): void {
    this.#durationsSeen += 1;
    if (this.#durations.length < DURATIONS_KEPT) this.#durations.push(durationMs);
    // Past the cap, newer runs overwrite older ones in turn: the percentiles stay those of the interval.
    else this.#durations[this.#durationsSeen % DURATIONS_KEPT] = durationMs;
  }

  #sample(now: number): LiveSample {
    const seconds = Math.max(0.001, (now - this.#lastTickAt) / 1000);
    this.#lastTickAt = now;
    const perSecond = (count: number): number => Math.round((count / seconds) * 100) / 100;
    const outcomes = this.#outcomes;
    this.#outcomes = { ok: 0, failed: 0, restartLater: 0 };
    const durations = this.#durations.sort((a, b) => a - b);
    this.#durations = [];
    this.#durationsSeen = 0;
    const sqs: Record<string, number> = {};
    for (const [action, total] of this.#sources.sqsRequests) {
      sqs[action] = perSecond(total - (this.#lastSqs.get(action) ?? 0));
    }
    this.#lastSqs = new Map(this.#sources.sqsRequests);
    const snapshot = this.#sources.status.lastGood;
    return {
      t: now,
      processedPerSecond: {
        ok: perSecond(outcomes.ok),
        failed: perSecond(outcomes.failed),
        restartLater: perSecond(outcomes.restartLater),
      },
      durationMs: durations.length === 0 ? null : { p50: percentile(durations, 0.5), p95: percentile(durations, 0.95) },
      // Nobody watching means nobody reads SQS: rather than repeat an old read for up to 15 minutes (which
      // the first viewer would take for a flat queue), a stale read is a gap.
      depth: snapshot && now - snapshot.asOf.getTime() <= this.#depthFreshMs ? sumDepth(snapshot.queues) : null,
      sqsRequestsPerSecond: sqs,
    };
  }

  #buildState(now: number): LiveState {
    const { supervisor, pool, status, controls, version } = this.#sources;
    const health = supervisor.health(now);
    const snapshot = status.lastGood;
    const counts = new Map((snapshot?.queues ?? []).map((queue) => [queue.name, queue]));
    const loads = new Map(health.queues.map((load) => [load.queue, load]));
    const limited = new Set(health.pollers.filter((p) => p.rateLimit?.limited === true).map((p) => p.queue));
    const queues = supervisor.targets.map((target): LiveQueue => {
      const read = counts.get(target.fullName);
      const load = loads.get(target.fullName);
      return {
        name: target.fullName,
        exists: read?.exists ?? true,
        visible: read?.visible ?? null,
        inFlight: read?.inFlight ?? null,
        delayed: read?.delayed ?? null,
        deadLetter: read?.deadLetter ? { name: read.deadLetter.name, visible: read.deadLetter.visible } : null,
        buffered: load?.buffered ?? 0,
        running: load?.running ?? 0,
        weight: target.queue.options.weight ?? 1,
        concurrency: target.queue.options.concurrency ?? null,
        paused: supervisor.pausedQueues.has(target.fullName),
        rateLimited: limited.has(target.fullName),
        lastError: lastErrorOf(this.#lastErrors.get(target.fullName)),
      };
    });
    return {
      t: now,
      daemon: {
        state: health.state,
        drainingFor:
          health.state === "draining"
            ? {
                running: health.inFlight,
                buffered: health.buffered,
                receives: health.pollers.reduce((sum, poller) => sum + poller.receivesUnderWay, 0),
              }
            : null,
        inFlight: health.inFlight,
        maxInFlight: health.maxInFlight,
        buffered: health.buffered,
        processed: health.processed,
        threads: pool.threadCount,
        threadReplacements: pool.threadReplacements,
        uptimeSeconds: Math.round((now - this.#startedAt) / 1000),
        version,
        nodeVersion: process.versions.node,
      },
      controls,
      statusAsOf: snapshot ? snapshot.asOf.getTime() : null,
      queues,
      schedules: this.#sources.schedules?.status() ?? [],
    };
  }
}

/** The value at quantile `q` of sorted `values` (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round((sorted[index] ?? 0) * 10) / 10;
}

function sumDepth(queues: readonly QueueStatus[]): NonNullable<LiveSample["depth"]> {
  const depth = { visible: 0, inFlight: 0, delayed: 0, deadLetters: 0 };
  for (const queue of queues) {
    depth.visible += queue.visible;
    depth.inFlight += queue.inFlight;
    depth.delayed += queue.delayed;
    depth.deadLetters += queue.deadLetter?.visible ?? 0;
  }
  return depth;
}

function truncate(message: string): string {
  return message.length <= ERROR_MESSAGE_MAX_CHARS ? message : `${message.slice(0, ERROR_MESSAGE_MAX_CHARS - 1)}…`;
}

function lastErrorOf(error: LiveError | undefined): LiveQueue["lastError"] {
  return error ? { name: error.name, at: error.at } : null;
}
