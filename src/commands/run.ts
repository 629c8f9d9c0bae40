import type { SQSClient } from "@aws-sdk/client-sqs";
import { readFileSync } from "node:fs";
import { physicalQueues } from "../admin/physical-queues.js";
import { loadConfig } from "../config/load.js";
import type { ResolvedConfig } from "../config/types.js";
import { startLocalSqs } from "../embedded.js";
import { errorSummary, QueueNotFoundError, UnknownQueueError, UsageError } from "../errors.js";
import { createLogger, type Logger } from "../logging.js";
import { forcedExitCode, onControlSignals, onShutdownSignals } from "../process/signals.js";
import { CachedQueueStatus, parseRedrivePolicy, readAttributes, readQueueStatus } from "../admin/queue-status.js";
import { findReceiverModules, importReceiverModules } from "../receivers.js";
import { typeScriptLoader } from "../loader.js";
import { importTelemetrySetup } from "../telemetry/setup.js";
import { getRegistry } from "../registry/registry.js";
import { requireS3IfLargePayloads } from "./payload-buckets.js";
import type { RegisteredQueue } from "../registry/types.js";
import { SCHEDULES_WAIT_TIME_SECONDS } from "../admin/schedules-queue.js";
import { createSqsClient, createSqsConnection } from "../sqs/client.js";
import { LeanSqs } from "../sqs/lean/lean-sqs.js";
import { QueueUrls } from "../sqs/queue-urls.js";
import { sqsSettingsFromConfig } from "../sqs/configure-from-file.js";
import { configureSqs, endpointLabel } from "../sqs/settings.js";
import { HandlerPool } from "../pool/pool.js";
import type { PollTarget } from "../supervisor/target.js";
import { maxLanes, Supervisor } from "../supervisor/supervisor.js";
import { sleep } from "../util/backoff.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import { RateLimit } from "../util/rate-limit.js";
import { setWarningSink } from "../warnings.js";
import { flushSpans } from "../telemetry/flush.js";

/** Options of `sqsd run`, already parsed. */
export interface RunOptions {
  /** `--config`. @defaultValue the first `sqs.config.*` in the working directory */
  readonly configPath?: string | undefined;
  /** `--message-limit`: exit after a drain once this many messages were processed. @defaultValue no limit */
  readonly messageLimit?: number | undefined;
  /** `--suffix`: consume only these suffixed variants of each queue. @defaultValue the base queue and every declared suffix */
  readonly suffixes?: readonly string[] | undefined;
  /** `--embedded`: start the local SQS server. @defaultValue `false` */
  readonly embedded?: boolean | undefined;
  /** Registered queue names to consume. @defaultValue every queue with a handler */
  readonly queues?: readonly string[] | undefined;
  /** Called once every poller is running, with the embedded server's endpoint if one was started. */
  readonly onReady?: ((info: { endpoint: string | undefined }) => void) | undefined;
}

/**
 * Start-up requests (queue look-ups, redrive checks) under way at once: well within the acks' sockets, so none
 * waits for a socket past the SDK's connection timeout, however many queues there are.
 */
const STARTUP_REQUESTS = 32;

/** Sockets for deletes, visibility changes, sends and status reads, beyond one per running message. */
const ACK_SOCKETS = 64;

/** Extra seconds over the long-poll wait before an unanswered request counts as dead. */
const REQUEST_TIMEOUT_MARGIN_SECONDS = 10;

/**
 * After a second signal, how long the quick cleanup steps (closing sockets and servers) may take before the
 * process exits anyway: "stop now" means within a second, whatever a step waits on.
 */
const FORCED_CLEANUP_LIMIT_MS = 500;

/**
 * One step of the shutdown, run in reverse order of registration. `forced` after a second signal: the step
 * does only what is quick (ending threads rather than running teardown hooks, say) or nothing.
 */
type CleanupStep = (forced: boolean) => Promise<unknown>;

/**
 * `sqsd run`: loads the config and receivers, then consumes every selected queue until SIGTERM/SIGINT (or the
 * message limit) and drains. Resolves with the exit status; throws typed errors for bad config or input.
 */
export async function runCommand(options: RunOptions): Promise<number> {
  const config = await loadConfig({ configPath: options.configPath, embedded: options.embedded === true });
  // Before anything of the daemon runs: the app's SDK must be registered before the first span is started.
  if (config.telemetry) await importTelemetrySetup(config.telemetry.setup);
  const logger = createLogger(config.log);
  const restoreWarnings = setWarningSink((message, code) => logger.warn(message, { code }));
  const cleanup: CleanupStep[] = [];
  /** Set by a second signal: the cleanup does only what is quick. */
  let forced = false;
  // Runs last (cleanup runs in reverse): the drain's settle spans end when its acks are flushed.
  if (config.telemetry) cleanup.push((hurry) => (hurry ? Promise.resolve() : flushSpans()));
  try {
    const server = config.embedded ? await startLocalSqs({ ...config.embedded, region: config.region }) : undefined;
    if (server) {
      cleanup.push(() => server.stop());
      logger.info("embedded SQS server listening", { endpoint: server.endpoint });
    }
    const settings = sqsSettingsFromConfig(config, server?.endpoint);
    configureSqs(settings);

    const receiverModules = await findReceiverModules(config.receivers, config.configPath);
    await importReceiverModules(receiverModules);
    const selected = selectQueues(getRegistry().list(), options.queues ?? []);
    const pool = new HandlerPool({
      threads: config.pool.threads,
      minThreads: config.pool.minThreads,
      threadIdleMs: config.pool.threadIdleSeconds * 1000,
      tasksPerThread: config.pool.tasksPerThread,
      receiverModules,
      typescriptLoader: typeScriptLoader(),
      telemetrySetup: config.telemetry?.setup,
      sqs: settings,
      logger,
      maxHeapMb: config.pool.maxHeapMb,
    });
    // The threads load the receivers while the supervisor looks its queues up; awaited before the first receive.
    // Until then no thread has run a handler (nor a setup hook), so a failed start-up ends them at once rather
    // than wait on teardowns from threads that may still be loading.
    let poolStarted = false;
    // A forced stop ends the threads without their teardown hooks, which would run beside live handlers.
    cleanup.push((hurry) => (poolStarted && !hurry ? pool.close() : pool.terminate()));
    const poolReady = pool.start().then(() => void (poolStarted = true));
    poolReady.catch(() => undefined);
    await requireS3IfLargePayloads(settings, getRegistry().list());
    // Checked before any request: a schedule naming an unknown queue is a config error (exit 2).
    // Its code is imported only when there are schedules, like the HTTP server's below.
    const makeScheduleRunner =
      config.schedules.length > 0
        ? await (await import("./run-schedules.js")).prepareSchedules(config, getRegistry().list())
        : undefined;
    const requestTimeoutMs = (config.defaults.waitTimeSeconds + REQUEST_TIMEOUT_MARGIN_SECONDS) * 1000;
    // Acks, visibility changes, sends and status reads: never queued behind long polls, which have their own.
    const acks = createSqsConnection(settings, {
      maxSockets: ACK_SOCKETS + config.pool.maxInFlight,
      requestTimeoutMs,
      maxAttempts: 2,
      transport: config.sqsTransport,
    });
    const client = acks.client;
    cleanup.push(async () => acks.destroy());
    // One URL cache for start-up, the redrive check and the status page: each queue is looked up once.
    const urls = new QueueUrls(client, { createQueues: config.createQueues, endpointLabel: endpointLabel(settings) });
    const targets = await resolveTargets(selected, options.suffixes, config, urls);
    // One socket per receive that can wait at once: every queue's lanes, and one spare each for a lane the
    // watchdog restarts while the stuck one still holds its socket. A long poll holds its socket for up to
    // waitTimeSeconds, so fewer would queue some queues' polls behind others'.
    const receiveSockets = targets.length * (maxLanes(config.pool.prefetch) + 1);
    const receives = createSqsConnection(settings, {
      maxSockets: receiveSockets,
      requestTimeoutMs,
      maxAttempts: 2,
      transport: config.sqsTransport,
      // With the sdk transport this client carries every receive: pool threads check each body's MD5 where they
      // decode it (workers/decode-message.ts), so the supervisor's loop need not.
      verifyMd5: false,
    });
    cleanup.push(async () => receives.destroy());
    // The schedules' forwarder long-polls for SCHEDULES_WAIT_TIME_SECONDS whatever defaults.waitTimeSeconds is,
    // and reads its ticks here rather than in a thread: its own client, with a request timeout past its wait
    // and the SDK's MD5 check.
    const scheduleReceiveClient = makeScheduleRunner
      ? createSqsClient(settings, {
          maxSockets: 2,
          requestTimeoutMs: (SCHEDULES_WAIT_TIME_SECONDS + REQUEST_TIMEOUT_MARGIN_SECONDS) * 1000,
          maxAttempts: 2,
        })
      : undefined;
    if (scheduleReceiveClient) cleanup.push(async () => scheduleReceiveClient.destroy());
    const scheduleRunner =
      scheduleReceiveClient &&
      (await makeScheduleRunner?.({ client, receiveClient: scheduleReceiveClient, urls, logger }));
    for (const queue of selected) {
      if (queue.handler?.kind === "batch" && queue.handler.batchSize > config.pool.maxInFlight) {
        // Every message of a running batch holds a slot, so batches can never be fuller than that.
        logger.warn(`batches of "${queue.name}" hold at most pool.maxInFlight messages`, {
          batchSize: queue.handler.batchSize,
          maxInFlight: config.pool.maxInFlight,
        });
      }
    }

    await poolReady;
    await warnAboutMissingRedrive(targets, client, urls, logger);
    const status = config.http ? queueStatusCache(config.http, client, urls, targets, logger) : undefined;
    const supervisor = new Supervisor({
      config,
      targets,
      sqs: acks.hot,
      receiveSqs: receives.hot,
      pool,
      logger,
      messageLimit: options.messageLimit,
      visibleMessages: (fullName) => status?.visible(fullName),
    });
    // Served before the first task can run: handlers' extendVisibility requests only come from running tasks.
    pool.serve("extendVisibility", (deliveryId, seconds) => supervisor.extendVisibility(deliveryId, seconds));
    if (scheduleRunner) {
      // Stopped when the drain begins, so that its long poll returns alongside the queues' polls.
      supervisor.events.once("draining", () => void scheduleRunner.stop());
      cleanup.push((hurry) => (hurry ? Promise.resolve() : scheduleRunner.stop()));
    }
    void pool.whenBroken().then((error) => supervisor.fail(error));
    if (config.http && status) {
      const [{ Metrics }, { OperationsServer }, { controlAvailability }, { LiveSampler }] = await Promise.all([
        import("../http/metrics.js"),
        import("../http/server.js"),
        import("../http/control-access.js"),
        import("../http/live-sampler.js"),
      ]);
      const metrics = new Metrics({
        supervisor,
        pool,
        clients: [
          client,
          receives.client,
          ...(scheduleReceiveClient ? [scheduleReceiveClient] : []),
          ...[acks.hot, receives.hot].filter((hot) => hot instanceof LeanSqs),
        ],
        status,
        schedules: scheduleRunner,
      });
      const dashboard = new LiveSampler(
        {
          supervisor,
          pool,
          sqsRequests: metrics.sqsRequests,
          status,
          controls: controlAvailability(config.http),
          version: packageVersion(),
          schedules: scheduleRunner,
        },
        { statusCacheMs: config.http.statusCacheSeconds * 1000 },
      );
      const operations = new OperationsServer({
        dashboard,
        http: config.http,
        supervisor,
        metrics,
        status,
        logger,
        stallSeconds: config.stallSeconds,
        schedules: scheduleRunner,
      });
      cleanup.push(() => operations.stop());
      await operations.start();
    }
    const ended = await consumeUntilStopped(supervisor, logger, () => {
      logger.info("sqsd started", {
        queues: targets.map((target) => target.fullName),
        // Threads running now (pool.minThreads, each verified), and the most the pool grows to under load.
        threads: pool.threadCount,
        maxThreads: config.pool.threads,
        threadsFrom: config.pool.threadsFrom,
        typescriptLoader: typeScriptLoader(),
        tasksPerThread: config.pool.tasksPerThread,
        maxInFlight: config.pool.maxInFlight,
        prefetch: config.pool.prefetch,
        maxBuffered: config.pool.maxBuffered,
        receiveSockets,
        sqsTransport: config.sqsTransport,
      });
      if (scheduleRunner) void scheduleRunner.start();
      options.onReady?.({ endpoint: server?.endpoint });
    });
    forced = ended.forced;
    return ended.exitCode;
  } finally {
    const steps = runCleanup(cleanup.reverse(), forced, logger);
    // A forced stop does not wait on a step that hangs: the CLI's process.exit ends whatever is left.
    await (forced ? Promise.race([steps, sleep(FORCED_CLEANUP_LIMIT_MS)]) : steps);
    restoreWarnings();
  }
}

/** Runs cleanup steps one after another; one failing does not skip the rest. */
async function runCleanup(steps: readonly CleanupStep[], forced: boolean, logger: Logger): Promise<void> {
  for (const step of steps) {
    try {
      await step(forced);
    } catch (error) {
      logger.warn("cleanup step failed", { error: errorSummary(error) });
    }
  }
}

/**
 * Runs the supervisor; the first signal drains it, a second ends the wait at once (`forced`, with the
 * signal's exit status).
 */
async function consumeUntilStopped(
  supervisor: Supervisor,
  logger: Logger,
  onStarted: () => void,
): Promise<{ exitCode: number; forced: boolean }> {
  let forceExit!: (code: number) => void;
  const forced = new Promise<number>((resolve) => (forceExit = resolve));
  const removeControlHandlers = onControlSignals({
    wake: () => {
      logger.info("SIGUSR2: waking idle pollers");
      supervisor.wake();
    },
    pause: () => supervisor.pause(),
    resume: () => supervisor.resume(),
  });
  const removeHandlers = onShutdownSignals({
    first(signal) {
      void supervisor.drain(`${signal} received`);
    },
    second(signal) {
      logger.warn(`second ${signal}: exiting now; running messages reappear after their visibility timeout`);
      forceExit(forcedExitCode(signal));
    },
  });
  try {
    supervisor.start();
    onStarted();
    return await Promise.race([
      supervisor.stopped.then((report) => ({ exitCode: report.exitCode, forced: false })),
      forced.then((exitCode) => ({ exitCode, forced: true })),
    ]);
  } finally {
    removeHandlers();
    removeControlHandlers();
  }
}

/**
 * A queue that retries failures but has no redrive policy keeps a poison message until its retention period
 * ends (up to 14 days), receiving it again and again: worth a warning at start-up.
 */
async function warnAboutMissingRedrive(
  targets: readonly PollTarget[],
  client: SQSClient,
  urls: QueueUrls,
  logger: Logger,
): Promise<void> {
  // A read that fails (a missing sqs:GetQueueAttributes, an outage) leaves that queue unchecked: said once, for
  // all of them, rather than a line per queue.
  const unchecked: { queue: string; error: unknown }[] = [];
  await mapWithConcurrency(
    targets.filter(
      (target) => (target.queue.options.onError ?? "retry") === "retry" && !target.queue.options.deleteOnStart,
    ),
    STARTUP_REQUESTS,
    async (target) => {
      const attributes = await readAttributes(client, urls, target.fullName, ["RedrivePolicy"]).catch(
        (error: unknown) => void unchecked.push({ queue: target.fullName, error }),
      );
      if (attributes && !parseRedrivePolicy(attributes["RedrivePolicy"])) {
        logger.warn(
          "queue has no redrive policy: a message that always fails will be retried until its retention period ends",
          {
            queue: target.fullName,
            fix: "give it a dead-letter queue (deadLetter option, then sqsd init)",
          },
        );
      }
    },
  );
  const [first] = unchecked;
  if (first) {
    logger.warn("could not read the redrive policy of some queues; they were not checked for one", {
      queues: unchecked.length,
      firstQueue: first.queue,
      error: errorSummary(first.error),
    });
  }
}

/** Queue counts for the status page, metrics and the stall check: the consumed queues and their DLQs. */
function queueStatusCache(
  http: NonNullable<ResolvedConfig["http"]>,
  client: SQSClient,
  urls: QueueUrls,
  targets: readonly PollTarget[],
  logger: Logger,
): CachedQueueStatus {
  const names = targets.map((target) => target.fullName);
  // One line a minute at most, saying how many it stands for: scrapes and pages may ask every few seconds.
  const warnings = new RateLimit(1, 60_000);
  return new CachedQueueStatus(
    () => readQueueStatus(client, urls, names),
    http.statusCacheSeconds * 1000,
    (error) => {
      const pass = warnings.take();
      if (!pass.allowed) return;
      logger.warn("reading the queues' counts failed; status pages and metrics serve the last good read", {
        error: errorSummary(error),
        failuresNotLogged: pass.heldBack,
      });
    },
  );
}

/** The queues to consume: those named on the command line, or every queue with a handler. */
export function selectQueues(registered: readonly RegisteredQueue[], names: readonly string[]): RegisteredQueue[] {
  const known = registered.map((queue) => queue.name);
  if (names.length === 0) {
    const consumable = registered.filter((queue) => queue.handler !== undefined);
    if (consumable.length === 0) {
      throw new UsageError(
        registered.length === 0
          ? "the receiver modules registered no queues"
          : `no registered queue has a handler (send-only: ${known.join(", ")})`,
      );
    }
    return consumable;
  }
  return names.map((name) => {
    const queue = registered.find((candidate) => candidate.name === name);
    if (!queue) throw new UnknownQueueError(name, known);
    if (!queue.handler) throw new UsageError(`queue "${name}" is send-only (registered without a handler)`);
    return queue;
  });
}

/**
 * The queues to poll, with their URLs. A suffix the receiver did not declare (given with `--suffix`) warns, as
 * django-sqs did, and is consumed where its queue exists; it never creates one, whatever `createQueues` says:
 * a typo on the command line must not bring queues into being for every receiver. Where such queues are
 * missing, it is a usage error that names them all.
 */
async function resolveTargets(
  queues: readonly RegisteredQueue[],
  suffixes: readonly string[] | undefined,
  config: ResolvedConfig,
  urls: QueueUrls,
): Promise<PollTarget[]> {
  const missing: { readonly fullName: string; readonly suffix: string }[] = [];
  const targets = await mapWithConcurrency(
    physicalQueues(queues, config, { suffixes }),
    STARTUP_REQUESTS,
    async (physical) => {
      const { suffix } = physical;
      if (suffix === undefined || (physical.queue.options.suffixes ?? []).includes(suffix)) {
        const url = await urls.resolve(physical.fullName, {
          visibilityTimeoutSeconds: physical.visibilityTimeoutSeconds,
        });
        return { ...physical, url };
      }
      try {
        return { ...physical, url: await urls.find(physical.fullName) };
      } catch (error) {
        if (!(error instanceof QueueNotFoundError)) throw error;
        missing.push({ fullName: physical.fullName, suffix });
        return undefined;
      }
    },
  );
  if (missing.length > 0) {
    const undeclared = [...new Set(missing.map((queue) => queue.suffix))].map((suffix) => `"${suffix}"`);
    const names = missing.map((queue) => queue.fullName).sort();
    throw new UsageError(
      `--suffix ${undeclared.join(", ")} is not declared for these queues, and they do not exist: ` +
        `${names.join(", ")}. sqsd creates queues only for declared suffixes (a receiver's suffixes option); ` +
        `an undeclared one is consumed only where its queue exists`,
    );
  }
  return targets.filter((target) => target !== undefined);
}

/** sqsd's version, for the dashboard (this module is dist/src/commands/run.js in the package). */
function packageVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return packageJson.version;
}
