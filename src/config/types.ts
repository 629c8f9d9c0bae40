import type { ResolvedSchedule, ScheduleOptions } from "./schedules.js";

/** Log levels sqsd writes at, from most to least severe. */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** Exponential backoff bounds. */
export interface BackoffOptions {
  /** First delay. @defaultValue depends on the backoff (see its owner) */
  readonly initialMs?: number;
  /** Ceiling the delay doubles up to. @defaultValue depends on the backoff (see its owner) */
  readonly maxMs?: number;
}

/** A dead-letter queue for a queue: `sqsd init` creates it and the redrive policy that feeds it. */
export interface DeadLetterOptions {
  /** Receives before SQS moves a message to the dead-letter queue (1..1000). */
  readonly maxReceiveCount: number;
  /**
   * The dead-letter queue's registered-style name; the prefix is applied, and `.fifo` for FIFO queues.
   * @defaultValue the queue's full name plus `__dlq` (`shop__thumbnails__big__dlq`)
   */
  readonly queueName?: string;
}

/**
 * When a failed message comes back. Left out, it comes back after its visibility timeout. Either exponential
 * (`baseSeconds × 2^(receiveCount - 1)`, capped at `maxSeconds`) or a list of delays in seconds, the first
 * after the first failure and the last for every failure after the list runs out. A redrive policy ends the
 * retries.
 */
export type RetryOptions =
  | {
      readonly backoff: "exponential";
      /** @defaultValue `10` */
      readonly baseSeconds?: number;
      /** @defaultValue `900` */
      readonly maxSeconds?: number;
    }
  | readonly number[];

/** The daemon's HTTP endpoint for status, metrics, health and control. */
export interface HttpOptions {
  /** Port to listen on (0 picks a free one). Setting `http` at all turns the endpoint on. */
  readonly port: number;
  /** @defaultValue `"127.0.0.1"`: reachable from this host only */
  readonly host?: string;
  /** Bearer token the POST routes (/wake, /pause, /resume) require. @defaultValue none */
  readonly token?: string;
  /** Serve the POST routes without a token. Off by default: anyone who can reach the port could pause the daemon. @defaultValue `false` */
  readonly allowUnauthenticatedControl?: boolean;
  /** How long queue counts are cached, so that scrapes and status pages cannot run up the SQS bill. @defaultValue `30` */
  readonly statusCacheSeconds?: number;
  /**
   * Answer /readyz with 200 while paused, as while running. Off, a paused daemon is not ready, which suits a
   * probe that asks "is it taking work?". On suits Kubernetes, where readiness only decides Service endpoints
   * (which a worker has no use for) and whether the pod counts as available: a paused pod that is not ready
   * counts against a rollout's `maxUnavailable` and a PodDisruptionBudget. Starting, draining and stopped are
   * never ready. See docs/deploying.md. @defaultValue `false`
   */
  readonly readyWhenPaused?: boolean;
}

/**
 * Bodies too large for SQS go to S3, and the message carries a pointer, in the format of the AWS SQS extended
 * clients (Java `amazon-sqs-java-extended-client-lib`, Python `sqs-extended-client`), so producers and consumers
 * in those languages interoperate with sqsd. Needs the package `@aws-sdk/client-s3` installed. See
 * docs/messages.md.
 */
export interface LargePayloadsOptions {
  /** The S3 bucket offloaded bodies are written to. It must exist (`sqsd init --create-bucket` creates it). */
  readonly bucket: string;
  /** Prepended to every object key (`prefix` + a random UUID), e.g. `"sqsd/"`. @defaultValue `""` */
  readonly prefix?: string;
  /**
   * Sends whose encoded body plus message attributes exceed this many bytes go to S3.
   * @defaultValue the queue's `MaximumMessageSize` minus 1024 bytes of room for attributes added on the way
   */
  readonly thresholdBytes?: number;
  /** Send every body through S3, whatever its size. @defaultValue `false` */
  readonly always?: boolean;
  /**
   * Delete the S3 object once its message is deleted from the queue (never before). Leave it off when other
   * consumers (a fan-out, a replay) still need the object, and expire objects with an S3 lifecycle rule.
   * @defaultValue `false`
   */
  readonly deleteAfterProcessing?: boolean;
  /**
   * The largest offloaded body a receiver reads, in bytes: a pointer to a larger object (by its declared size,
   * its ContentLength, or what streams in) is refused as a decode failure before or while reading, never
   * buffered. Anyone who can send to the queue writes pointers.
   * @defaultValue `67108864` (64 MiB)
   */
  readonly maxPayloadBytes?: number;
  /**
   * Buckets besides `bucket` that receivers read offloaded bodies from (other producers' buckets). A pointer
   * naming any other bucket is refused as a decode failure, so that a sender cannot make sqsd read objects its
   * role happens to reach. @defaultValue `[]`: only `bucket`
   */
  readonly allowedBuckets?: readonly string[];
  /**
   * S3 endpoint URL for a local server (fauxqs, LocalStack, MinIO); path-style requests are used with it.
   * @defaultValue the SDK's S3 endpoint; with the embedded server, the embedded server (it serves S3 too)
   */
  readonly s3Endpoint?: string;
}

/**
 * `sqs.config.ts` as you write it. Every field is optional except `receivers`.
 *
 * @example
 * ```ts
 * import { defineConfig } from "sqsd";
 *
 * export default defineConfig({
 *   queuePrefix: "shop",
 *   receivers: ["./receivers/*.ts"],
 *   pool: { threads: 4, tasksPerThread: 8 },
 * });
 * ```
 */
export interface SqsdConfig {
  /** AWS region. @defaultValue `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `"us-east-1"` */
  readonly region?: string;
  /**
   * SQS endpoint URL for ElasticMQ, LocalStack or fauxqs, or `"embedded"` to start a local SQS server inside
   * the daemon (for development: it needs the optional peer dependency fauxqs installed). Left out, the AWS SDK
   * picks the endpoint (including `AWS_ENDPOINT_URL_SQS`).
   * @defaultValue undefined
   */
  readonly endpoint?: string;
  /** Where the embedded server listens when `endpoint` is `"embedded"` or `--embedded` is given. */
  readonly embedded?: {
    /** @defaultValue `"127.0.0.1"` */
    readonly host?: string;
    /** @defaultValue `4566` */
    readonly port?: number;
  };
  /**
   * Prepended to every queue name (`PREFIX__name`), to keep developers, staging and production apart.
   * Required when `NODE_ENV` is `development`, as django-sqs required it under `DEBUG`.
   * @defaultValue `SQS_QUEUE_PREFIX`, else none
   */
  readonly queuePrefix?: string;
  /** Receiver module paths or globs, relative to the config file. sqsd imports them itself. */
  readonly receivers: readonly string[];
  /** Defaults for every queue; receiver options override the per-queue ones. */
  readonly defaults?: {
    /** Seconds a received message stays hidden from other consumers. @defaultValue `60` */
    readonly visibilityTimeoutSeconds?: number;
    /** Long-poll wait of each ReceiveMessage (0..20). @defaultValue `20` */
    readonly waitTimeSeconds?: number;
    /** Backoff after a failed receive. @defaultValue `{ initialMs: 1000, maxMs: 60000 }` */
    readonly errorBackoff?: BackoffOptions;
    /**
     * Pause after an empty receive, growing while the queue stays empty (django-sqs's `SQS_POLL_PERIOD`).
     * Saves requests on queues that are idle for long stretches, at the cost of pick-up latency.
     * @defaultValue `false` (long polling alone)
     */
    readonly idleBackoff?: false | BackoffOptions;
    /** A dead-letter queue for every queue that does not set its own; `sqsd init` creates them. @defaultValue `false` */
    readonly deadLetter?: false | DeadLetterOptions;
    /** Retry delays for every queue that does not set its own. @defaultValue `false` (the visibility timeout) */
    readonly retry?: false | RetryOptions;
  };
  /** The worker-thread pool. Its capacity, threads × tasksPerThread, is how many messages run at once. */
  readonly pool?: {
    /**
     * Most worker threads: the pool grows to this many while every running thread is full (`tasksPerThread`
     * handlers each), so it bounds how many messages run at once. @defaultValue the number of CPU cores
     */
    readonly threads?: number;
    /**
     * Threads started with the daemon and kept however idle it is; each loads the receiver modules before the
     * first receive, so a module that fails to load stops the daemon (exit 1) before it consumes anything. The
     * pool grows from here to `threads` under load, and a thread above this many that has run nothing for
     * `threadIdleSeconds` ends (after its teardown hooks). Set it to `threads` to keep every thread warm.
     * @defaultValue `1`
     */
    readonly minThreads?: number;
    /** How long a thread above `minThreads` may run nothing before it ends. @defaultValue `60` */
    readonly threadIdleSeconds?: number;
    /** Handlers one thread runs concurrently; raise it for handlers that mostly wait on I/O. @defaultValue `1` */
    readonly tasksPerThread?: number;
    /** Messages running at once, across all queues; at most threads × tasksPerThread. @defaultValue threads × tasksPerThread */
    readonly maxInFlight?: number;
    /**
     * Messages each queue keeps received ahead, beyond those running, so that a freed slot starts work without
     * a round trip to SQS. Their visibility is kept while they wait, and a drain or pause gives them back at
     * once. A receive asks for a full batch of 10 only while there is room for it, so 20 keeps a batch
     * waiting while the next one is received. A batch handler's queue keeps at least one batch.
     * @defaultValue `20`
     */
    readonly prefetch?: number;
    /**
     * Ceiling on buffered messages across all queues, so that memory stays bounded whatever the number of
     * queues: beyond it receives ask for one message each (every queue keeps listening), so at most
     * `maxBuffered` plus one per queue are ever buffered. @defaultValue `max(100, 2 × maxInFlight)`
     */
    readonly maxBuffered?: number;
    /**
     * Heap limit of each worker thread in MiB: a handler that exceeds it loses its thread (and its message is
     * retried) instead of the daemon. @defaultValue Node's default
     */
    readonly maxHeapMb?: number;
  };
  /** How long a drain waits for running handlers after SIGTERM or SIGINT. @defaultValue `30000` */
  readonly drainTimeoutMs?: number;
  /**
   * What a drain does with long polls waiting on SQS. `wait` (the default) lets them return, which takes up to
   * `waitTimeSeconds` on an idle queue. `abort` ends them at once, so an idle daemon stops in a moment; the cost
   * is that a poll aborted on our side may live on at the server for the rest of its wait and take a message
   * sent meanwhile, which then stays hidden until its visibility timeout: a delayed redelivery, never a loss.
   * @defaultValue `"wait"`
   */
  readonly drainPolls?: "wait" | "abort";
  /**
   * A poller silent (no completed receive, and not waiting on purpose) for its long-poll wait plus this is
   * stalled: the watchdog restarts it, and /healthz fails. @defaultValue `60`
   */
  readonly stallSeconds?: number;
  /** Create missing queues at start-up. @defaultValue `false`, or `true` with the embedded server */
  readonly createQueues?: boolean;
  /**
   * How the daemon sends ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch, 99% of its
   * requests. `lean` signs them with the AWS SDK's own signer and sends them over `node:http`, with the SDK
   * client's credentials, endpoint rules and retry strategy, at about half the CPU per request; `sdk` sends
   * them through the full `SQSClient`, the escape hatch should an SQS-compatible server or a future SDK change
   * disagree with the lean path. Every other request goes through the full client either way.
   * @defaultValue `"lean"`
   */
  readonly sqsTransport?: "lean" | "sdk";
  /** Status, metrics, health and control over HTTP. @defaultValue off */
  readonly http?: HttpOptions;
  /**
   * Bodies past SQS's size limit through S3, wire-compatible with the AWS extended clients; receivers may
   * override it with their own `largePayloads` (or `false`). @defaultValue off
   */
  readonly largePayloads?: LargePayloadsOptions;
  /**
   * Where receivers' `rateLimit: { shared: true }` limits are counted, so they hold across every replica
   * (docs/operations.md, "Rate limits"). @defaultValue none: a shared limit is then a config error
   */
  readonly rateLimitStore?: RateLimitStoreOptions;
  /** OpenTelemetry tracing (docs/observability.md). @defaultValue off: spans go to no SDK, and cost nothing */
  readonly telemetry?: TelemetryOptions;
  /**
   * Cron schedules: one message per tick on a queue, however many replicas run them (docs/schedules.md).
   * @defaultValue `[]`
   */
  readonly schedules?: readonly ScheduleOptions[];
  readonly log?: {
    /** @defaultValue `"info"` */
    readonly level?: LogLevel;
    /** @defaultValue `"pretty"` on a TTY, else `"json"` */
    readonly format?: "json" | "pretty";
  };
}

/** Where the app sets up OpenTelemetry for the daemon. */
export interface TelemetryOptions {
  /**
   * A module (relative to the config file) that registers the app's OpenTelemetry SDK and exporters. sqsd
   * imports it first in the supervisor and in every pool thread, before the receiver modules.
   */
  readonly setup: string;
}

/** Filled-in backoff bounds. */
export interface ResolvedBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The config with every default applied, as the daemon uses it. */
export interface ResolvedConfig {
  /** Absolute path of the config file. */
  readonly configPath: string;
  readonly region: string;
  /** Endpoint URL, or undefined for the SDK's choice. Never `"embedded"`: that is resolved to `embedded`. */
  readonly endpoint: string | undefined;
  /** Set when the daemon must start the embedded server. */
  readonly embedded: { readonly host: string; readonly port: number } | undefined;
  readonly queuePrefix: string | undefined;
  /** Absolute receiver module paths or globs. */
  readonly receivers: readonly string[];
  readonly defaults: {
    readonly visibilityTimeoutSeconds: number;
    readonly waitTimeSeconds: number;
    readonly errorBackoff: ResolvedBackoff;
    readonly idleBackoff: ResolvedBackoff | false;
    readonly deadLetter: DeadLetterOptions | false;
    readonly retry: RetryOptions | false;
  };
  readonly pool: {
    readonly threads: number;
    readonly minThreads: number;
    readonly threadIdleSeconds: number;
    /** Where `threads` came from: `config`, `available cores`, or a cgroup CPU quota (for the start-up log). */
    readonly threadsFrom: string;
    readonly tasksPerThread: number;
    readonly maxInFlight: number;
    readonly prefetch: number;
    readonly maxBuffered: number;
    readonly maxHeapMb: number | undefined;
  };
  readonly drainTimeoutMs: number;
  readonly drainPolls: "wait" | "abort";
  readonly stallSeconds: number;
  readonly createQueues: boolean;
  readonly sqsTransport: "lean" | "sdk";
  readonly http:
    | {
        readonly port: number;
        readonly host: string;
        readonly token: string | undefined;
        readonly allowUnauthenticatedControl: boolean;
        readonly statusCacheSeconds: number;
        readonly readyWhenPaused: boolean;
      }
    | undefined;
  readonly log: { readonly level: LogLevel; readonly format: "json" | "pretty" };
  /** As written; a queue's threshold default depends on the queue, so it is filled in at send time. */
  readonly largePayloads?: LargePayloadsOptions;
  /** As written. */
  readonly rateLimitStore?: RateLimitStoreOptions;
  /** Absolute path of the `telemetry.setup` module, or undefined without one. */
  readonly telemetry: { readonly setup: string } | undefined;
  readonly schedules: readonly ResolvedSchedule[];
}

/** The store shared rate limits are counted in: Redis or Valkey (the optional `redis` package). */
export interface RateLimitStoreOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  readonly url: string;
  /** Prefix of the limits' keys, one key per limited queue. @defaultValue `"sqsd:rate"` */
  readonly keyPrefix?: string;
}
