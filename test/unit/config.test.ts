import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveConfig, type ResolveContext } from "../../src/config/resolve.js";
import { ValidationError } from "../../src/errors.js";

const context: ResolveContext = { configPath: "/app/sqs.config.ts", env: {}, cores: 4, isTTY: false };

function problemsOf(input: unknown, overrides: Partial<ResolveContext> = {}): string {
  try {
    resolveConfig(input, { ...context, ...overrides });
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    return error.message;
  }
  assert.fail("the config was accepted");
}

describe("config resolution", () => {
  it("sizes the pool by the CPUs the process may use, and says where the number came from", () => {
    const quota = { ...context, cores: 2, coresSource: "cgroup v2 cpu.max (2 CPUs)" };
    const byQuota = resolveConfig({ receivers: ["./r.ts"] }, quota).pool;
    assert.deepEqual([byQuota.threads, byQuota.threadsFrom], [2, "cgroup v2 cpu.max (2 CPUs)"]);
    const byConfig = resolveConfig({ receivers: ["./r.ts"], pool: { threads: 3 } }, quota).pool;
    assert.deepEqual([byConfig.threads, byConfig.threadsFrom], [3, "config"]);
  });

  it("fills every default", () => {
    const config = resolveConfig({ receivers: ["./receivers/*.ts"] }, context);
    assert.deepEqual(config, {
      configPath: "/app/sqs.config.ts",
      region: "us-east-1",
      endpoint: undefined,
      embedded: undefined,
      queuePrefix: undefined,
      receivers: ["/app/receivers/*.ts"],
      defaults: {
        visibilityTimeoutSeconds: 60,
        waitTimeSeconds: 20,
        errorBackoff: { initialMs: 1_000, maxMs: 60_000 },
        idleBackoff: false,
        deadLetter: false,
        retry: false,
      },
      pool: {
        threads: 4,
        minThreads: 1,
        threadIdleSeconds: 60,
        threadsFrom: "available cores",
        tasksPerThread: 1,
        maxInFlight: 4,
        prefetch: 20,
        maxBuffered: 100,
        maxHeapMb: undefined,
      },
      drainTimeoutMs: 30_000,
      drainPolls: "wait",
      stallSeconds: 60,
      createQueues: false,
      sqsTransport: "lean",
      http: undefined,
      log: { level: "info", format: "json" },
      telemetry: undefined,
      schedules: [],
    });
  });

  it("reads the region and prefix from the environment, the file winning", () => {
    const env = { AWS_REGION: "eu-west-1", SQS_QUEUE_PREFIX: "dev" };
    const fromEnv = resolveConfig({ receivers: ["r.ts"] }, { ...context, env });
    assert.equal(fromEnv.region, "eu-west-1");
    assert.equal(fromEnv.queuePrefix, "dev");
    const fromFile = resolveConfig(
      { receivers: ["r.ts"], region: "ap-south-1", queuePrefix: "prod" },
      { ...context, env },
    );
    assert.equal(fromFile.region, "ap-south-1");
    assert.equal(fromFile.queuePrefix, "prod");
  });

  it("requires a prefix when NODE_ENV=development, as django-sqs did under DEBUG", () => {
    assert.match(
      problemsOf({ receivers: ["r.ts"] }, { env: { NODE_ENV: "development" } }),
      /queuePrefix is required when NODE_ENV=development/,
    );
    assert.equal(
      resolveConfig({ receivers: ["r.ts"] }, { ...context, env: { NODE_ENV: "development", SQS_QUEUE_PREFIX: "me" } })
        .queuePrefix,
      "me",
    );
  });

  it("turns on the embedded server and queue creation for endpoint: embedded or --embedded", () => {
    const byConfig = resolveConfig({ receivers: ["r.ts"], endpoint: "embedded" }, context);
    assert.deepEqual(byConfig.embedded, { host: "127.0.0.1", port: 4566 });
    assert.equal(byConfig.endpoint, undefined);
    assert.equal(byConfig.createQueues, true);
    const byFlag = resolveConfig(
      { receivers: ["r.ts"], endpoint: "http://localhost:9324", embedded: { port: 0 } },
      { ...context, embedded: true },
    );
    assert.deepEqual(byFlag.embedded, { host: "127.0.0.1", port: 0 });
    assert.equal(byFlag.endpoint, undefined);
  });

  it("takes sqsTransport lean or sdk, and says which otherwise", () => {
    assert.equal(resolveConfig({ receivers: ["r.ts"], sqsTransport: "sdk" }, context).sqsTransport, "sdk");
    assert.match(
      problemsOf({ receivers: ["r.ts"], sqsTransport: "fast" }),
      /sqsTransport must be "lean" \(the default\) or "sdk" \(every request through the full AWS SDK client\), got "fast"/,
    );
  });

  it("names the field path and the value received", () => {
    assert.equal(
      problemsOf({ receivers: ["r.ts"], defaults: { visibilityTimeoutSeconds: -5 } }),
      "/app/sqs.config.ts: defaults.visibilityTimeoutSeconds must be an integer 0..43200, got -5",
    );
    assert.match(
      problemsOf({ receivers: ["r.ts"], pool: { threads: "4" } }),
      /pool\.threads must be an integer 1\.\.256, got "4"/,
    );
    assert.match(
      problemsOf({ receivers: ["r.ts"], defaults: { waitTimeSeconds: 30 } }),
      /defaults\.waitTimeSeconds must be an integer 0\.\.20, got 30/,
    );
    assert.match(problemsOf({ receivers: [] }), /receivers must list at least one module path or glob, got \[\]/);
    assert.match(problemsOf({}), /receivers must be a list of module paths or globs, got undefined/);
    assert.match(
      problemsOf({ receivers: ["r.ts"], endpoint: "localhost" }),
      /endpoint must be "embedded" or an http\(s\) URL, got "localhost"/,
    );
    assert.match(
      problemsOf({ receivers: ["r.ts"], log: { level: "verbose" } }),
      /log\.level must be "error", "warn", "info" or "debug", got "verbose"/,
    );
    assert.match(problemsOf({ receivers: ["r.ts"], queuePrefix: "a.b" }), /queuePrefix may only contain letters/);
    assert.match(problemsOf("nope"), /config must be an object/);
  });

  it("rejects unknown options, so typos do not pass silently", () => {
    assert.match(
      problemsOf({ receivers: ["r.ts"], pool: { thread: 2 } }),
      /pool\.thread is not a known option, got a number \(value not shown\)/,
    );
    assert.match(
      problemsOf({ receivers: ["r.ts"], visibilityTimeoutSeconds: 5 }),
      /visibilityTimeoutSeconds is not a known option/,
    );
  });

  it("lists every problem at once", () => {
    const message = problemsOf({ receivers: "r.ts", drainTimeoutMs: -1 });
    assert.match(message, /receivers must be a list/);
    assert.match(message, /drainTimeoutMs must be an integer 0\.\.3600000, got -1/);
  });

  it("keeps in-flight messages within the pool's capacity", () => {
    assert.match(
      problemsOf({ receivers: ["r.ts"], pool: { threads: 2, tasksPerThread: 4, maxInFlight: 9 } }),
      /pool\.maxInFlight must be at most threads × tasksPerThread \(8\), got 9/,
    );
    const config = resolveConfig({ receivers: ["r.ts"], pool: { threads: 2, tasksPerThread: 4 } }, context);
    assert.equal(config.pool.maxInFlight, 8);
  });

  it("starts one thread and grows to threads, unless minThreads says otherwise, never above threads", () => {
    const config = resolveConfig({ receivers: ["r.ts"], pool: { threads: 3 } }, context);
    assert.deepEqual([config.pool.minThreads, config.pool.threads, config.pool.threadIdleSeconds], [1, 3, 60]);
    const warm = resolveConfig(
      { receivers: ["r.ts"], pool: { threads: 3, minThreads: 3, threadIdleSeconds: 5 } },
      context,
    );
    assert.deepEqual([warm.pool.minThreads, warm.pool.threadIdleSeconds], [3, 5]);
    assert.match(
      problemsOf({ receivers: ["r.ts"], pool: { threads: 2, minThreads: 3 } }),
      /pool\.minThreads must be at most threads \(2\), got 3/,
    );
  });

  it("bounds the prefetch buffer, and grows the global ceiling with a large pool", () => {
    assert.match(
      problemsOf({ receivers: ["r.ts"], pool: { prefetch: 0 } }),
      /pool\.prefetch must be an integer 1\.\.10000, got 0/,
    );
    const large = resolveConfig({ receivers: ["r.ts"], pool: { threads: 64, tasksPerThread: 2 } }, context);
    assert.equal(large.pool.maxBuffered, 256, "2 × maxInFlight past the floor of 100");
    const set = resolveConfig({ receivers: ["r.ts"], pool: { prefetch: 40, maxBuffered: 7 } }, context);
    assert.deepEqual([set.pool.prefetch, set.pool.maxBuffered], [40, 7]);
  });

  it("fills partial backoff bounds consistently", () => {
    const config = resolveConfig(
      { receivers: ["r.ts"], defaults: { errorBackoff: { maxMs: 500 }, idleBackoff: { initialMs: 90_000 } } },
      context,
    );
    assert.deepEqual(config.defaults.errorBackoff, { initialMs: 500, maxMs: 500 });
    assert.deepEqual(config.defaults.idleBackoff, { initialMs: 90_000, maxMs: 90_000 });
    assert.match(
      problemsOf({ receivers: ["r.ts"], defaults: { errorBackoff: { initialMs: 10, maxMs: 5 } } }),
      /defaults\.errorBackoff must have initialMs <= maxMs/,
    );
  });

  it("fills the HTTP endpoint's defaults when it is turned on", () => {
    const config = resolveConfig({ receivers: ["r.ts"], http: { port: 9090 } }, context);
    assert.deepEqual(config.http, {
      port: 9090,
      host: "127.0.0.1",
      token: undefined,
      allowUnauthenticatedControl: false,
      statusCacheSeconds: 30,
      readyWhenPaused: false,
    });
    assert.match(
      problemsOf({ receivers: ["r.ts"], http: { host: "0.0.0.0" } }),
      /http\.port must be an integer 0\.\.65535, got undefined/,
    );
    assert.equal(
      resolveConfig({ receivers: ["r.ts"], http: { port: 9090, readyWhenPaused: true } }, context).http
        ?.readyWhenPaused,
      true,
    );
    assert.match(
      problemsOf({ receivers: ["r.ts"], http: { port: 9090, readyWhenPaused: "yes" } }),
      /http\.readyWhenPaused must be true or false, got "yes"/,
    );
    assert.match(
      problemsOf({ receivers: ["r.ts"], defaults: { deadLetter: { maxReceiveCount: 0 } } }),
      /defaults\.deadLetter\.maxReceiveCount must be an integer 1\.\.1000, got 0/,
    );
  });

  it("defaults to pretty logs on a terminal", () => {
    assert.equal(resolveConfig({ receivers: ["r.ts"] }, { ...context, isTTY: true }).log.format, "pretty");
  });
});
