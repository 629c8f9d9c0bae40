/** How a {@link HandlerPool} is built, and what its callers hand it. */
import type { TypeScriptLoader } from "../loader.js";
import type { Logger } from "../logging.js";
import type { SqsSettings } from "../sqs/settings.js";
import { strippedTypeScriptSources, type StrippedSources } from "../typescript-sources.js";
import type { HandlerRun, HandlerTask, PoolWorkerData } from "./protocol.js";

/** How the pool is built. */
export interface HandlerPoolOptions {
  /** Most threads: the pool grows to this many while no thread is idle (see IdleThreads's balancer). */
  readonly threads: number;
  /** Threads started (and verified) by {@link HandlerPool.start}, and never ended for idleness. @defaultValue `threads` */
  readonly minThreads?: number | undefined;
  /** How long a thread above `minThreads` may hold no task before it ends, after its teardown hooks. @defaultValue `60000` */
  readonly threadIdleMs?: number | undefined;
  readonly tasksPerThread: number;
  readonly receiverModules: readonly string[];
  /** How the supervisor loaded the receivers' TypeScript (src/loader.ts), for threads to do the same. @defaultValue `"none"` */
  readonly typescriptLoader?: TypeScriptLoader | undefined;
  readonly sqs: SqsSettings;
  readonly logger: Logger;
  /** The app's `telemetry.setup` module (absolute path), imported first in every thread. @defaultValue none */
  readonly telemetrySetup?: string | undefined;
  /** Heap limit per thread in MiB. @defaultValue Node's default */
  readonly maxHeapMb?: number | undefined;
}

/** A run to start: one message, or a batch handler's batch. */
export type RunRequest = Pick<HandlerRun, "messages">;

/** Runs to start for one queue, in one trip to one thread. */
export type TaskRequest = Omit<HandlerTask, "runs"> & { readonly runs: readonly RunRequest[] };

/** What the pool's own parts add to a thread's workerData: its channel, and the run slots' shared memory. */
export type PoolWiring = Pick<PoolWorkerData, "channelName" | "threadMap" | "startTimes">;

/**
 * The workerData every pool thread starts with. Receivers the supervisor loaded natively go with their
 * stripped JavaScript (`typescriptSources`), so that threads never instantiate Node's type stripper for them.
 */
export function threadWorkerData(options: HandlerPoolOptions, wiring: PoolWiring): PoolWorkerData {
  return {
    receiverModules: options.receiverModules,
    typescriptLoader: options.typescriptLoader ?? "none",
    ...(options.typescriptLoader === "native" ? nonEmpty(strippedTypeScriptSources()) : {}),
    telemetrySetup: options.telemetrySetup,
    sqs: options.sqs,
    tasksPerThread: options.tasksPerThread,
    ...wiring,
  };
}

/** The stripped sources to hand the threads, if any: with none, a thread registers no load hook. */
function nonEmpty(sources: StrippedSources): { typescriptSources?: StrippedSources } {
  return Object.keys(sources).length > 0 ? { typescriptSources: sources } : {};
}
