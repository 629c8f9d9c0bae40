/**
 * The supervisor's young generation, capped on its own isolate: V8 takes a semi-space ceiling only when an
 * isolate is made, so a daemon started as `sqsd` re-executes itself once (`process.execve`: the same process,
 * the same pid) with `--max-semi-space-size`, and then clears the flag so that the pool threads' isolates,
 * made later, get V8's own default. bin/sqsd.js does so (src/cli/young-generation-start.ts) before it loads
 * anything else.
 *
 * Why not the runtime toggle (`--semi-space-growth-factor`, src/process/heap-sizing.ts), which is the fallback
 * where `process.execve` is missing (Windows, Node before 22.15): V8's flags are the process's, so while the
 * supervisor sat at its cap no pool thread's young generation could grow either; a thread started or
 * compacted meanwhile stayed at 1 to 2 MiB through a backlog and scavenged some 40 times as often. With the
 * ceiling on the supervisor's isolate alone, a pool thread's young generation grows and shrinks as V8 sees
 * fit, and an idle thread may compact its heap (workers/idle-heap.ts).
 */

/**
 * The supervisor's semi-space ceiling in MiB: its young generation (two semi-spaces) stays at 16 MiB.
 *
 * Why: under a backlog V8 grows the supervisor's new space to its ceiling, 128 MiB on a 64-bit machine with a
 * few GB of memory, while the supervisor's heap in use stays near 25 MB; that growth was most of the RSS a deep
 * backlog added (`npm run bench -- --scenario soak`). Past a few MiB, a larger young generation only makes
 * scavenges rarer: what survives one (the messages buffered and running) is the same.
 */
export const SUPERVISOR_SEMI_SPACE_MIB = 8;

/**
 * A pool thread's young generation in MB, given to each thread's isolate (`resourceLimits`): V8 sizes a young
 * generation as three semi-spaces (two, and as much again for large new objects), so 24 is semi-spaces of 8 MiB,
 * the supervisor's.
 *
 * Why: with no ceiling of its own, a thread under a backlog grows its new space as the supervisor's did, to 128
 * MiB (measured), and the memory scenario's floor rose by 46 MB of anonymous pages; a thread's handlers keep no
 * more alive across a scavenge than the supervisor does. An operator's own `--max-semi-space-size` wins, as V8
 * takes the flag over an isolate's limits.
 */
export const POOL_THREAD_YOUNG_GENERATION_MB = 24;

/**
 * An environment variable set for the re-executed process only, which removes it at once (a handler's child
 * `sqsd` must not see it).
 */
export const REEXECUTED_ENV = "SQSD_YOUNG_GENERATION_CAPPED";

/** Whether `--max-semi-space-size` is in Node's command line or `NODE_OPTIONS`: an operator's own, or ours. */
export function semiSpaceFlagSet(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env["NODE_OPTIONS"] ?? "",
): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => /^--max[-_]semi[-_]space[-_]size\b/.test(flag));
}

/**
 * Whether the young-generation cap of the supervisor's isolate is in place (re-executed with
 * `--max-semi-space-size`, or an operator's own flag): then the runtime toggle is not used, and the pool
 * threads' young generations are V8's to size. Reads Node's command line, which pool threads share.
 */
export function youngGenerationSizedAtStart(): boolean {
  return semiSpaceFlagSet();
}
