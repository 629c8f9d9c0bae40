import { loadConfig } from "../config/load.js";
import { startLocalSqs } from "../embedded.js";
import { errorSummary } from "../errors.js";
import { createLogger, type Logger } from "../logging.js";
import { forcedExitCode, onControlSignals, onShutdownSignals } from "../process/signals.js";
import { findReceiverModules, importReceiverModules } from "../receivers.js";
import { typeScriptLoader } from "../loader.js";
import { importTelemetrySetup } from "../telemetry/setup.js";
import { getRegistry } from "../registry/registry.js";
import { requireS3IfLargePayloads } from "./payload-buckets.js";
import { limitOldGenerationGrowth } from "../process/heap-sizing.js";
import { tendMemory } from "./run-memory.js";
import { resolveTargets, selectQueues, warnAboutMissingRedrive } from "./run-queues.js";
import { SCHEDULES_WAIT_TIME_SECONDS } from "../admin/schedules-queue.js";
import { createSqsClient, createSqsConnection } from "../sqs/client.js";
import { LeanSqs } from "../sqs/lean/lean-sqs.js";
import { QueueUrls } from "../sqs/queue-urls.js";
import { sqsSettingsFromConfig } from "../sqs/configure-from-file.js";
import { configureSqs, endpointLabel } from "../sqs/settings.js";
import { HandlerPool } from "../pool/pool.js";
import { maxLanes, Supervisor } from "../supervisor/supervisor.js";
import { sleep } from "../util/backoff.js";
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
  // From the start, not once ready: V8 reads the growth factor only when a full collection sets the next limit,
  // and the one made while the daemon loads (live about 15 MB) set it at some 60 MB under V8's own factor, so
  // under a backlog from the start the old generation filled with garbage to there (heap in use 15 -> 47 MB
  // over 45 s with no full collection: the memory scenario's floor rise). tendMemory keeps it from ready on.
  limitOldGenerationGrowth();
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
    // The HTTP side's code is imported only when the config has it, like the schedules' above.
    const http = config.http ? { config: config.http, module: await import("./run-http.js") } : undefined;
    const status = http?.module.queueStatusCache(http.config, client, urls, targets, logger);
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
    if (http && status) {
      const operations = http.module.createOperationsServer({
        http: http.config,
        stallSeconds: config.stallSeconds,
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
        logger,
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
      const tending = new AbortController();
      tendMemory({
        held: () => supervisor.held,
        processed: () => supervisor.processed,
        logger,
        signal: tending.signal,
      });
      supervisor.events.once("draining", () => tending.abort());
      cleanup.push(async () => tending.abort());
    });
    forced = ended.forced;
    return ended.exitCode;
  } finally {
    const steps = runCleanup(cleanup.reverse(), forced, logger);
    // A forced stop does not wait on a step that hangs: the CLI's process.exit ends whatever is left.
    await (forced ? Promise.race([steps, sleep(FORCED_CLEANUP_LIMIT_MS)]) : steps);
    restoreWarnings();
    // V8's own factor again, as tendMemory leaves it at the drain (also when the daemon never got ready).
    limitOldGenerationGrowth(0);
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
