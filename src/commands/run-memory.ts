import module from "node:module";
import type { Logger } from "../logging.js";
import { compactHeap } from "../process/compact-heap.js";
import { sizeHeap } from "../process/heap-sizing.js";

/**
 * How often the supervisor looks whether it may compact its heap (see {@link compactHeap}) after start-up, and
 * how many looks in a row must find it quiet (nothing held, nothing processed since the look before): a
 * compaction is a pause (60-100 ms of CPU measured, about a second on a machine running two test suites at
 * once), so it waits for a daemon idle for a while, not for the gap between two messages.
 */
const LOOK_EVERY_MS = 1_000;
const QUIET_LOOKS = 5;

/** What {@link tendMemory} reads of the running daemon. */
export interface MemoryTending {
  /** Messages the daemon holds now (buffered, running, going back). */
  readonly held: () => number;
  /** Messages processed so far. */
  readonly processed: () => number;
  readonly logger: Logger;
  /** Ends the tending: the daemon drains or stops. */
  readonly signal: AbortSignal;
}

/**
 * The running daemon's memory, from the moment it is ready until `signal` aborts: the compile cache flushed and
 * the heap compacted once the daemon is first quiet, and the heap sized for a backlog.
 */
export function tendMemory({ held, processed, logger, signal }: MemoryTending): void {
  // The heap gives back what loading grew and an idle daemon would keep; not while messages come: the heap
  // would grow straight back, and the pause and the extra collections meanwhile cost a busy daemon about
  // 0.03 ms of CPU per message over its first 20,000 (bench throughput scenario).
  let quietLooks = 0;
  let processedBefore = processed();
  const look = (): void => {
    const now = processed();
    quietLooks = held() === 0 && now === processedBefore ? quietLooks + 1 : 0;
    processedBefore = now;
    if (quietLooks < QUIET_LOOKS) {
      timer = setTimeout(look, LOOK_EVERY_MS).unref();
      return;
    }
    // Start-up's compiled code goes to the compile cache (bin/sqsd.js) now, not at an exit a killed daemon
    // never reaches; it writes files synchronously, so it too waits for a quiet moment.
    (module as { flushCompileCache?: () => void }).flushCompileCache?.();
    logger.debug("heap compacted after start-up", { ...compactHeap() });
  };
  let timer = setTimeout(look, LOOK_EVERY_MS).unref();
  signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  // Under a backlog V8 would grow the young generation to 128 MiB and the old to 82 MB for some 25 MB in use.
  sizeHeap(signal);
}
