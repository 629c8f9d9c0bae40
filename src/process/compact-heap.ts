import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** The options V8's `gc()` takes: a synchronous major collection that gives back all the memory it can. */
interface GcOptions {
  readonly type: "major";
  readonly execution: "sync";
  readonly flavor: "last-resort";
}

/** What one compaction did: its pause, and the heap's and the process's size before and after, in MB. */
export interface Compaction {
  /** Whether it collected: false when another thread had just unset V8's `--expose-gc` (see `collector`). */
  readonly collected: boolean;
  readonly durationMs: number;
  readonly heapTotalMb: readonly [before: number, after: number];
  readonly rssMb: readonly [before: number, after: number];
}

/**
 * Gives the memory that loading left behind back to the system: one synchronous, memory-reducing full
 * collection of this thread's heap (V8's "last resort" flavour).
 *
 * Why: loading the daemon's modules (the SDK, zod, yargs, winston, the receivers) grows V8's young generation
 * to its full 16 MiB, and V8 does not shrink it while the process idles; nor can a semi-space limit be set
 * once V8 runs (`--max-semi-space-size` through `setFlagsFromString` has no effect). A memory-reducing
 * collection shrinks it back to 1 MiB and compacts the old generation; under load V8 grows it again as the
 * allocation rate asks, so throughput keeps the young generation it needs.
 *
 * `gc` is reached the way Jest's leak detector reaches it: `--expose-gc` set for the moment a new context is
 * made, then unset, so no later context (a pool thread started afterwards, say) sees a global `gc`.
 */
export function compactHeap(): Compaction {
  const gc = collector();
  const before = process.memoryUsage();
  const began = performance.now();
  gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
  const durationMs = Math.round(performance.now() - began);
  const after = process.memoryUsage();
  return {
    collected: gc !== undefined,
    durationMs,
    heapTotalMb: [megabytes(before.heapTotal), megabytes(after.heapTotal)],
    rssMb: [megabytes(before.rss), megabytes(after.rss)],
  };
}

/**
 * V8's `gc` for this thread. Started with --expose-gc (an operator's choice), that gc, the flag left as it was.
 * Otherwise the flag is set for the moment a new context is made, whose `gc` is used once and let go (kept, it
 * would keep that context alive: some 160 KB). The flag is the process's: another thread may unset it in
 * between, and then this thread finds no `gc` and the compaction is skipped, never thrown out of a timer.
 */
function collector(): ((options: GcOptions) => void) | undefined {
  const exposed = (globalThis as { gc?: (options: GcOptions) => void }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    setFlagsFromString("--expose-gc");
    const made: unknown = runInNewContext("typeof gc === 'function' ? gc : undefined");
    return typeof made === "function" ? (made as (options: GcOptions) => void) : undefined;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}

/** Bytes as whole MB (10^6), as the logs give sizes. */
function megabytes(bytes: number): number {
  return Math.round(bytes / 1e6);
}
