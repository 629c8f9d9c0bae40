/**
 * Gives back, in a pool thread, the memory its heap grew while it loaded the receivers or ran a burst of
 * messages, once the thread sits idle: the thread-side counterpart of the supervisor's compaction after
 * start-up (src/process/compact-heap.ts).
 *
 * Why: a thread's young generation grows while it loads its modules (4 MiB resident measured after start-up),
 * and under a backlog to its 32 MiB semispaces, and V8 keeps it so while the thread idles. One memory-reducing
 * collection shrinks it to a few hundred KiB; measured on the start-up scenario's idle daemon (one thread, Node
 * 24): RSS 110 → 106 MB. Under load V8 grows it again as the allocation rate asks, so a busy thread keeps the
 * young generation it needs, and a thread is compacted only after it has been idle for a while, never between
 * the tasks of a steady stream. Only where the supervisor's young generation is capped on its own isolate
 * (src/process/young-generation.ts): under the process-wide fallback (src/process/heap-sizing.ts) a thread
 * compacted before a backlog stayed at 1 to 2 MiB of young generation through it, 40 times the scavenges.
 */
import { compactHeap } from "../src/process/compact-heap.js";
import { systemClock, type Clock, type ClockTimer } from "../src/util/clock.js";

/** What a pool thread's entry returns to piscina: one task in, its result out. */
type Runner<Task, Result> = (task: Task) => Promise<Result>;

/** Idle time after the thread is ready (or after its last task) before its first compaction. */
export const FIRST_COMPACTION_IDLE_MS = 1_000;

/**
 * Idle time after a task before a later compaction: long enough that a thread serving bursts a few seconds
 * apart is not paused between them, short enough that a daemon idle after a backlog gives its memory back.
 */
export const LATER_COMPACTION_IDLE_MS = 30_000;

/** What {@link compactWhenIdle} runs on: the real clock and compaction in a thread, fakes in unit tests. */
export interface IdleHeapOptions {
  /** @defaultValue the process's clock */
  readonly clock?: Clock;
  /** @defaultValue {@link compactHeap} */
  readonly compact?: () => unknown;
}

/**
 * Wraps a thread's task runner so that the thread compacts its heap once it has been idle: the first time
 * {@link FIRST_COMPACTION_IDLE_MS} after it is ready or its last task, and again after every later busy spell
 * once it has been idle for {@link LATER_COMPACTION_IDLE_MS}. A thread that ran nothing since its last
 * compaction is not compacted again: nothing grew.
 */
export function compactWhenIdle<Task, Result>(
  run: Runner<Task, Result>,
  { clock = systemClock, compact = compactHeap }: IdleHeapOptions = {},
): Runner<Task, Result> {
  let running = 0;
  /** Whether the heap may have grown since the last compaction: start-up counts as growth. */
  let grown = true;
  let compactions = 0;
  let timer: ClockTimer | undefined;
  const arm = (): void => {
    clock.clearTimeout(timer);
    if (running > 0 || !grown) return;
    timer = clock.setTimeout(
      () => {
        if (running > 0) return;
        grown = false;
        compactions += 1;
        compact();
      },
      compactions === 0 ? FIRST_COMPACTION_IDLE_MS : LATER_COMPACTION_IDLE_MS,
    );
    // An idle thread's pending compaction must not keep it alive when the pool ends it.
    (timer as { unref?: () => void }).unref?.();
  };
  arm();
  return async (task) => {
    running += 1;
    grown = true;
    clock.clearTimeout(timer);
    try {
      return await run(task);
    } finally {
      running -= 1;
      arm();
    }
  };
}
