import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { ValidationError, type FieldProblem } from "../errors.js";
import { namePartProblem } from "../queue-names.js";
import { configSchema, validate } from "./rules.js";
import { resolveSchedules } from "./schedules.js";
import type { ResolvedBackoff, ResolvedConfig, SqsdConfig } from "./types.js";

/** Every default of the config, in one object; {@link resolveConfig} fills the written config from it. */
export const CONFIG_DEFAULTS = {
  region: "us-east-1",
  embedded: { host: "127.0.0.1", port: 4566 },
  defaults: {
    visibilityTimeoutSeconds: 60,
    waitTimeSeconds: 20,
    errorBackoff: { initialMs: 1_000, maxMs: 60_000 },
    /** Bounds used when `idleBackoff` is enabled with some bounds left out. */
    idleBackoff: { initialMs: 5_000, maxMs: 60_000 },
  },
  pool: { tasksPerThread: 1, minThreads: 1, threadIdleSeconds: 60, prefetch: 20, minMaxBuffered: 100 },
  drainTimeoutMs: 30_000,
  drainPolls: "wait",
  stallSeconds: 60,
  sqsTransport: "lean",
  http: { host: "127.0.0.1", statusCacheSeconds: 30 },
  log: { level: "info" },
} as const;

/** What besides the file itself decides the resolved config. */
export interface ResolveContext {
  /** Absolute path of the config file; receiver paths are relative to its folder. */
  readonly configPath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** CPUs this process may use (cores, or fewer under a CPU quota): the default thread count. */
  readonly cores: number;
  /** Where `cores` came from, for the start-up log. @defaultValue `available cores` */
  readonly coresSource?: string;
  /** Whether stdout is a terminal, which makes `pretty` the default log format. */
  readonly isTTY: boolean;
  /** `--embedded` on the command line. */
  readonly embedded?: boolean;
}

/** Validates a loaded config object and fills in every default. */
export function resolveConfig(input: unknown, context: ResolveContext): ResolvedConfig {
  // The schema's output equals SqsdConfig (test/types checks they cannot drift apart), except that zod spells
  // optional fields `T | undefined`, which exactOptionalPropertyTypes keeps distinct.
  const config = validate(configSchema, input, context.configPath) as SqsdConfig;
  const { env } = context;
  const problems: FieldProblem[] = [];

  const threads = config.pool?.threads ?? Math.max(1, context.cores);
  const tasksPerThread = config.pool?.tasksPerThread ?? CONFIG_DEFAULTS.pool.tasksPerThread;
  const capacity = threads * tasksPerThread;
  const maxInFlight = config.pool?.maxInFlight ?? capacity;
  const minThreads = config.pool?.minThreads ?? Math.min(threads, CONFIG_DEFAULTS.pool.minThreads);
  if (minThreads > threads) {
    problems.push({ path: "pool.minThreads", rule: `must be at most threads (${threads})`, received: minThreads });
  }
  if (maxInFlight > capacity) {
    // maxInFlight counts messages running at once, and the pool cannot run more than its capacity.
    problems.push({
      path: "pool.maxInFlight",
      rule: `must be at most threads × tasksPerThread (${capacity})`,
      received: maxInFlight,
    });
  }

  const envPrefix = emptyToUndefined(env["SQS_QUEUE_PREFIX"]);
  const envPrefixProblem = envPrefix === undefined ? undefined : namePartProblem(envPrefix);
  if (config.queuePrefix === undefined && envPrefixProblem) {
    problems.push({ path: "SQS_QUEUE_PREFIX", rule: envPrefixProblem, received: envPrefix });
  }
  const queuePrefix = config.queuePrefix ?? envPrefix;
  if (queuePrefix === undefined && env["NODE_ENV"] === "development") {
    problems.push({
      path: "queuePrefix",
      rule: "is required when NODE_ENV=development (or set SQS_QUEUE_PREFIX), so developers do not share queues",
      received: undefined,
    });
  }
  if (problems.length > 0) throw new ValidationError(context.configPath, problems);

  const embedded = context.embedded === true || config.endpoint === "embedded";
  const configDir = dirname(context.configPath);
  const defaults = config.defaults ?? {};
  return {
    configPath: context.configPath,
    region:
      config.region ??
      emptyToUndefined(env["AWS_REGION"]) ??
      emptyToUndefined(env["AWS_DEFAULT_REGION"]) ??
      CONFIG_DEFAULTS.region,
    endpoint: embedded ? undefined : config.endpoint,
    embedded: embedded
      ? {
          host: config.embedded?.host ?? CONFIG_DEFAULTS.embedded.host,
          port: config.embedded?.port ?? CONFIG_DEFAULTS.embedded.port,
        }
      : undefined,
    queuePrefix,
    receivers: config.receivers.map((pattern) => (isAbsolute(pattern) ? pattern : resolvePath(configDir, pattern))),
    defaults: {
      visibilityTimeoutSeconds: defaults.visibilityTimeoutSeconds ?? CONFIG_DEFAULTS.defaults.visibilityTimeoutSeconds,
      waitTimeSeconds: defaults.waitTimeSeconds ?? CONFIG_DEFAULTS.defaults.waitTimeSeconds,
      errorBackoff: fillBackoff(defaults.errorBackoff, CONFIG_DEFAULTS.defaults.errorBackoff),
      idleBackoff:
        defaults.idleBackoff === undefined || defaults.idleBackoff === false
          ? false
          : fillBackoff(defaults.idleBackoff, CONFIG_DEFAULTS.defaults.idleBackoff),
      deadLetter: defaults.deadLetter ?? false,
      retry: defaults.retry ?? false,
    },
    pool: {
      threads,
      minThreads,
      threadIdleSeconds: config.pool?.threadIdleSeconds ?? CONFIG_DEFAULTS.pool.threadIdleSeconds,
      threadsFrom: config.pool?.threads === undefined ? (context.coresSource ?? "available cores") : "config",
      tasksPerThread,
      maxInFlight,
      prefetch: config.pool?.prefetch ?? CONFIG_DEFAULTS.pool.prefetch,
      maxBuffered: config.pool?.maxBuffered ?? Math.max(CONFIG_DEFAULTS.pool.minMaxBuffered, 2 * maxInFlight),
      maxHeapMb: config.pool?.maxHeapMb,
    },
    drainTimeoutMs: config.drainTimeoutMs ?? CONFIG_DEFAULTS.drainTimeoutMs,
    drainPolls: config.drainPolls ?? CONFIG_DEFAULTS.drainPolls,
    stallSeconds: config.stallSeconds ?? CONFIG_DEFAULTS.stallSeconds,
    createQueues: config.createQueues ?? embedded,
    sqsTransport: config.sqsTransport ?? CONFIG_DEFAULTS.sqsTransport,
    http: config.http && {
      port: config.http.port,
      host: config.http.host ?? CONFIG_DEFAULTS.http.host,
      token: config.http.token,
      allowUnauthenticatedControl: config.http.allowUnauthenticatedControl ?? false,
      statusCacheSeconds: config.http.statusCacheSeconds ?? CONFIG_DEFAULTS.http.statusCacheSeconds,
      readyWhenPaused: config.http.readyWhenPaused ?? false,
    },
    log: {
      level: config.log?.level ?? CONFIG_DEFAULTS.log.level,
      format: config.log?.format ?? (context.isTTY ? "pretty" : "json"),
    },
    // Only when set: a config without it resolves exactly as before.
    ...(config.largePayloads ? { largePayloads: config.largePayloads } : {}),
    ...(config.rateLimitStore ? { rateLimitStore: config.rateLimitStore } : {}),
    telemetry: config.telemetry && {
      setup: isAbsolute(config.telemetry.setup)
        ? config.telemetry.setup
        : resolvePath(configDir, config.telemetry.setup),
    },
    schedules: resolveSchedules(config.schedules),
  };
}

function fillBackoff(
  written: { initialMs?: number; maxMs?: number } | undefined,
  fallback: ResolvedBackoff,
): ResolvedBackoff {
  const initialMs = written?.initialMs ?? Math.min(fallback.initialMs, written?.maxMs ?? Infinity);
  return { initialMs, maxMs: written?.maxMs ?? Math.max(fallback.maxMs, initialMs) };
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
