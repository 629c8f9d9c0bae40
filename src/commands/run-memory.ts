import module from "node:module";
import type { Logger } from "../logging.js";
import { compactHeap } from "../process/compact-heap.js";
import { sizeHeap } from "../process/heap-sizing.js";

/**
 * How long after start-up the supervisor compacts its heap (see {@link compactHeap}), and how often it looks
 * again while messages run or wait: late enough that its pause (60-100 ms of CPU measured, longer on a loaded
 * machine) does not hold up messages already waiting when the daemon started.
 */
const COMPACT_AFTER_START_MS = 1_000;

/** What {@link tendMemory} reads of the running daemon. */
export interface MemoryTending {
  /** Messages the daemon holds now (buffered, running, going back): a compaction waits for none. */
  readonly held: () => number;
  readonly logger: Logger;
  /** Ends the tending: the daemon drains or stops. */
  readonly signal: AbortSignal;
}

/**
 * The running daemon's memory, from the moment it is ready until `signal` aborts: the compile cache flushed and
 * the heap compacted once after start-up, and the heap sized for a backlog.
 */
export function tendMemory({ held, logger, signal }: MemoryTending): void {
  // The heap gives back what loading grew and an idle daemon would keep; not while messages wait or run: the
  // heap would grow straight back, and the pause and the extra collections meanwhile cost a busy daemon about
  // 0.03 ms of CPU per message over its first 20,000 (bench throughput scenario).
  const compactWhenIdle = (): void => {
    if (held() > 0) compaction = setTimeout(compactWhenIdle, COMPACT_AFTER_START_MS).unref();
    else logger.debug("heap compacted after start-up", { ...compactHeap() });
  };
  let compaction = setTimeout(() => {
    // Start-up's compiled code goes to the compile cache (bin/sqsd.js) now, not at an exit a killed daemon
    // never reaches.
    (module as { flushCompileCache?: () => void }).flushCompileCache?.();
    compactWhenIdle();
  }, COMPACT_AFTER_START_MS).unref();
  signal.addEventListener("abort", () => clearTimeout(compaction), { once: true });
  // Under a backlog V8 would grow the young generation to 128 MiB and the old to 82 MB for some 25 MB in use.
  sizeHeap(signal);
}
