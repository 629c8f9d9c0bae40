// Which module may import which, checked by `npm run check` (dependency-cruiser reads the imports,
// type-only ones included, with the project's TypeScript). docs/architecture.md explains the layers.
//
// The layers of src/, bottom first. A module may import modules of its own layer and of the layers below
// it, never of a layer above. Every module of src/ belongs to exactly one layer: a new folder or top-level
// file goes into this list before anything can import it.
const LAYERS = [
  {
    name: "foundation",
    holds:
      "leaf modules that know nothing of sqsd's parts: errors and how failures are classified and values shown, SQS limits and queue naming, warnings, module loading, signals, optional packages loaded on demand, small utilities (Backoff, sleep, Batcher)",
    paths: [
      "src/errors.ts",
      "src/pool-errors.ts",
      "src/aws-error-fields.ts",
      "src/failure-kind.ts",
      "src/describe-value.ts",
      "src/limits.ts",
      "src/queue-names.ts",
      "src/warnings.ts",
      "src/restart-later.ts",
      "src/rate-limited.ts",
      "src/loader.ts",
      "src/optional-package.ts",
      "src/typescript-sources.ts",
      "src/process/",
      "src/util/",
    ],
  },
  {
    name: "telemetry",
    holds: "OpenTelemetry: trace context on messages, and the spans of sending, receiving and settling",
    paths: ["src/telemetry/"],
  },
  { name: "codecs", holds: "message body encodings", paths: ["src/codecs/"] },
  {
    name: "config",
    holds: "the config file (types, rules, loading), its receiver globs, and the logger it configures",
    paths: ["src/config/", "src/receivers.ts", "src/logging.ts"],
  },
  {
    name: "sqs",
    holds: "talking to SQS: client, settings, queue URLs, the embedded local server",
    paths: ["src/sqs/", "src/embedded.ts"],
  },
  {
    name: "payloads",
    holds: "large payloads through S3: the extended clients' pointer format, offloading sends, fetching bodies",
    paths: ["src/payloads/"],
  },
  {
    name: "idempotency",
    holds: "idempotent receivers: the record key, the guard around a handler, the memory, Redis and DynamoDB stores",
    paths: ["src/idempotency/"],
  },
  {
    name: "registry",
    holds: "what an app declares, receiver() and register(), and sending to it, send()",
    paths: ["src/registry/"],
  },
  {
    name: "admin",
    holds: "physical queue names and queue counts, for the daemon and the commands",
    paths: ["src/admin/"],
  },
  {
    name: "schedules",
    holds: "cron schedules: the ticker, the offer to the FIFO schedules queue, and the forward to the target",
    paths: ["src/schedules/"],
  },
  {
    name: "pool",
    holds: "the worker-thread pool and the thread protocol; beside the supervisor, which uses it",
    paths: ["src/pool/"],
  },
  {
    name: "rate-limit",
    holds:
      "receivers' rate limits: the token accounting, in the process or in a shared store, and the pause RateLimited asks for",
    paths: ["src/rate-limit/"],
  },
  {
    name: "supervisor",
    holds: "pollers, scheduler, dispatcher, acker, drain: the daemon's core",
    paths: ["src/supervisor/"],
  },
  { name: "http", holds: "the status, metrics and control server", paths: ["src/http/"] },
  { name: "commands", holds: "one function per CLI command", paths: ["src/commands/"] },
  {
    name: "entry points",
    holds: "the CLI's command table, its option tables and option readers, and the public API",
    paths: ["src/cli.ts", "src/cli/", "src/index.ts", "src/public-api.ts", "src/thread-api.ts"],
  },
];

/** One regular expression for a list of paths: a folder (ending in "/") with everything in it, or one file. */
function pattern(paths) {
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return `^(${paths.map((path) => (path.endsWith("/") ? escape(path) : `${escape(path)}$`)).join("|")})`;
}

const pathsAbove = (index) => LAYERS.slice(index + 1).flatMap((layer) => layer.paths);
const namesBelow = (index) => LAYERS.slice(0, index).map((layer) => layer.name);

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layers: ${layer.name} imports upward`,
  comment:
    `${layer.name} (${layer.holds}) may import only itself and the layers below it` +
    (index > 0 ? `: ${namesBelow(index).join(", ")}.` : ", and it has none.") +
    " Move the shared code down, or the importing code up (.dependency-cruiser.js lists the layers).",
  severity: "error",
  from: { path: pattern(layer.paths) },
  to: { path: pattern(pathsAbove(index)) },
}));

const allLayers = pattern(LAYERS.flatMap((layer) => layer.paths));
const poolIndex = LAYERS.findIndex((layer) => layer.name === "pool");

export default {
  forbidden: [
    {
      name: "no-circular",
      comment: "Modules must not import each other in a circle, type-only imports included.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: "src never imports workers",
      comment:
        "workers/ runs only in pool threads; piscina loads the thread entry by file name. The supervisor side never imports it.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^workers/" },
    },
    {
      name: "workers stay on the thread side",
      comment: `workers/ may use the layers up to the pool (${namesBelow(poolIndex + 1).join(", ")}), never the supervisor or anything above it.`,
      severity: "error",
      from: { path: "^workers/" },
      to: { path: pattern(pathsAbove(poolIndex)) },
    },
    {
      name: "every src module is in a layer",
      comment: "Add the module's folder or file to LAYERS in .dependency-cruiser.js.",
      severity: "error",
      from: { path: "^src/", pathNot: allLayers },
      to: {},
    },
    {
      name: "every imported src module is in a layer",
      comment: "Add the module's folder or file to LAYERS in .dependency-cruiser.js.",
      severity: "error",
      from: {},
      to: { path: "^src/", pathNot: allLayers },
    },
  ],
  options: {
    // Tests, benchmarks and examples may import anything: only src/ and workers/ are cruised (see package.json).
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
