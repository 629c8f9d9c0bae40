/**
 * Every sqsd option, set to its default. Copy what you need into your own sqs.config.ts; anything you leave
 * out takes the value shown here, except `region` and `log.format`, whose defaults depend on the environment
 * (see their comments): copying those two lines pins them. (A test keeps this file and the real defaults in
 * step, in an environment without AWS_REGION and without a terminal.)
 */
import { defineConfig } from "sqsd";

export default defineConfig({
  // AWS region. Default: AWS_REGION, then AWS_DEFAULT_REGION, then "us-east-1".
  region: "us-east-1",

  // SQS endpoint. Leave it out for AWS (the SDK also honours AWS_ENDPOINT_URL_SQS); give a URL for
  // ElasticMQ, LocalStack or fauxqs; or "embedded" to start a local SQS server inside the daemon (for
  // development: it needs fauxqs, an optional peer dependency: npm install --save-dev "fauxqs@^1.9.2").
  // endpoint: "http://localhost:9324",

  // Where the embedded server listens (only with endpoint: "embedded" or --embedded).
  embedded: { host: "127.0.0.1", port: 4566 },

  // Prepended to every queue name as PREFIX__name. Default: SQS_QUEUE_PREFIX, else none.
  // Required when NODE_ENV=development.
  // queuePrefix: "staging",

  // Receiver modules: paths or globs, relative to this file. Required.
  receivers: ["./receivers/*.ts"],

  defaults: {
    // Seconds a received message stays hidden while its handler runs. Receivers can override it.
    visibilityTimeoutSeconds: 60,
    // Long-poll wait per receive, 0..20. 20 costs the fewest requests; a drain waits up to this long.
    waitTimeSeconds: 20,
    // Backoff after a failed receive: doubles from initialMs up to maxMs, with jitter.
    errorBackoff: { initialMs: 1_000, maxMs: 60_000 },
    // Pause after an empty receive (django-sqs's SQS_POLL_PERIOD), growing while the queue stays empty.
    // false: long polling alone. { initialMs: 5_000, maxMs: 60_000 } when turned on with {}.
    idleBackoff: false,
    // A dead-letter queue for every queue (receivers can set their own): `sqsd init` creates QUEUE__dlq and the
    // redrive policy that moves a message there after maxReceiveCount receives.
    deadLetter: false,
    // When a failed message comes back: { backoff: "exponential", baseSeconds, maxSeconds } or a list of delays
    // in seconds by attempt, e.g. [10, 60, 300]. false: after its visibility timeout.
    retry: false,
  },

  pool: {
    // Worker threads. Default: the CPUs the process may use, its cores or its container's CPU quota (rounded
    // down, at least 1); the start-up log's threadsFrom says which. Left out here, as the default depends on
    // the machine.
    // threads: 4,
    // Threads started (and checked) with the daemon and kept when idle; the pool grows to threads under load,
    // and a thread above this many that ran nothing for threadIdleSeconds ends, after its teardown hooks.
    minThreads: 1,
    // threadIdleSeconds: 60,
    // Handlers one thread runs at once. Raise it for handlers that mostly wait on I/O.
    tasksPerThread: 1,
    // Messages running at once, across all queues. Default and maximum: threads × tasksPerThread.
    // maxInFlight: 4,
    // Messages each queue receives ahead while every slot is busy; their visibility is kept while they wait.
    prefetch: 20,
    // Buffered messages across all queues (each queue still listens for one past it). Default: max(100, 2 × maxInFlight).
    // maxBuffered: 100,
    // Heap limit per worker thread in MiB; a handler past it loses its thread, not the daemon. Default: Node's.
    // maxHeapMb: 512,
  },

  // How long SIGTERM/SIGINT waits for running handlers before aborting them.
  drainTimeoutMs: 30_000,

  // Long polls under way when a drain begins: "wait" lets them return (an idle daemon takes up to
  // waitTimeSeconds to stop); "abort" ends them at once (a message sent meanwhile may come back only after its
  // visibility timeout; never lost).
  drainPolls: "wait",

  // A poller silent this long beyond its long-poll wait is restarted, and /healthz fails.
  stallSeconds: 60,

  // Create missing queues at start-up and on first send. Default: false, or true with the embedded server
  // (left commented out here so that the example keeps that default in both cases).
  // createQueues: false,

  // How ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch are sent: "lean" (the AWS SDK's
  // signer, credentials, endpoint rules and retries over node:http, about half the CPU per request) or "sdk"
  // (the full AWS SDK client, should an SQS-compatible server disagree with the lean path).
  sqsTransport: "lean",

  // Status, metrics, health and control over HTTP; off unless set. See docs/operations.md.
  // http: {
  //   port: 9090,
  //   host: "127.0.0.1", // in a container, "0.0.0.0": probes and scrapers cannot reach the loopback
  //   token: process.env.SQSD_HTTP_TOKEN,
  //   allowUnauthenticatedControl: false, // if true: control requests need Content-Type: application/json
  //   statusCacheSeconds: 30,
  //   readyWhenPaused: false, // true: /readyz stays 200 while paused (what Kubernetes wants; docs/deploying.md)
  // },

  // Bodies past SQS's size limit through S3, in the AWS extended clients' format; off unless set. Needs
  // `npm install @aws-sdk/client-s3`. Receivers may set their own (or false). See docs/messages.md.
  // largePayloads: {
  //   bucket: "shop-sqs-payloads", // must exist: `sqsd init` checks it, `--create-bucket` creates it
  //   prefix: "", // object keys are prefix + a random UUID
  //   thresholdBytes: undefined, // default: the queue's MaximumMessageSize minus 1024
  //   always: false, // true: every body goes through S3
  //   deleteAfterProcessing: false, // true: the object goes once its message is deleted (never before)
  //   s3Endpoint: undefined, // a local S3 (fauxqs, LocalStack, MinIO); default with "embedded": the embedded server
  // },

  // OpenTelemetry tracing; off unless set. The module registers your SDK and exporters; sqsd imports it first
  // in the supervisor and in every pool thread. See docs/observability.md.
  // telemetry: { setup: "./otel.ts" },

  // Cron schedules: one message per tick on a registered queue, however many replicas run (docs/schedules.md).
  // Default: none. `sqsd init` creates the FIFO queue PREFIX__sqsd-schedules.fifo they go through.
  // schedules: [
  //   {
  //     name: "nightly-report", // unique; the FIFO group and the start of each tick's deduplication id
  //     cron: "0 3 * * *", // 5 fields, or 6 with seconds first
  //     queue: "reports", // a registered queue
  //     timezone: "Europe/Berlin", // IANA name; default "UTC"
  //     catchUp: "latest", // "none" (default): ticks missed while no replica ran are lost
  //     // body: (tick: Date) => ({ day: tick.toISOString().slice(0, 10) }), // default { schedule, tick }
  //     // suffix: "eu", // one the receiver declares
  //   },
  // ],

  // level: "error" | "warn" | "info" | "debug" (debug adds a record per processed message).
  // format: "json" | "pretty". Default: "pretty" on a terminal, else "json".
  log: { level: "info", format: "json" },
});
