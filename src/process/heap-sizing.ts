import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { youngGenerationSizedAtStart } from "./young-generation.js";

/**
 * How far past what the last full collection left alive V8 lets the old generation grow before the next one,
 * in percent: V8's own factor, up to 300% under a high allocation rate.
 *
 * Why: with the young generation capped ({@link capYoungGeneration}), more of what the supervisor allocates is
 * promoted, and V8 let its old generation grow to some 82 MB for 16 to 25 MB alive, over the first 4 minutes of
 * a backlog: the creep the soak saw. At 50% it stays near 27 MB. V8 reads `--heap-growing-percent` each time
 * it sets the next limit, and never grows a limit by less than a fixed step, so a heap of a few MB (an idle
 * pool thread's) is collected no more often than before; a pool thread whose handlers keep more than some
 * 20 MB alive is collected more often, since the flag is the process's.
 */
export const OLD_GENERATION_GROWTH_PERCENT = 50;

/**
 * Sizes the process's heap for a backlog until `signal` aborts (see {@link limitOldGenerationGrowth}), then gives
 * V8 its own sizing back. The supervisor's young generation is capped on its own isolate when the daemon
 * started (src/process/young-generation.ts; or by an operator's own `--max-semi-space-size`); only where that
 * could not be done does this fall back to the process-wide {@link capYoungGeneration}.
 */
export function sizeHeap(signal: AbortSignal): void {
  if (!youngGenerationSizedAtStart()) capYoungGeneration(signal);
  limitOldGenerationGrowth();
  // 0 is V8's default: a growth factor it picks itself.
  signal.addEventListener("abort", () => limitOldGenerationGrowth(0), { once: true });
}

/** Sets {@link OLD_GENERATION_GROWTH_PERCENT} for every isolate of the process. */
export function limitOldGenerationGrowth(percent = OLD_GENERATION_GROWTH_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * The most the supervisor's young generation (V8's new space, both semi-spaces) may grow to, in MiB.
 *
 * The fallback's figure for what `SUPERVISOR_SEMI_SPACE_MIB` (young-generation.ts) sets where the daemon re-executes itself
 * (two semi-spaces of 8 MiB); why a cap at all is said there.
 */
export const YOUNG_GENERATION_CAP_MIB = 16;

/**
 * Keeps this isolate's young generation at most `capMib` MiB (see {@link YOUNG_GENERATION_CAP_MIB}) until
 * `signal` aborts, and returns the sizes it saw.
 *
 * V8 takes a ceiling for its semi-spaces only when an isolate is made (`--max-semi-space-size`, which a daemon
 * passes itself by re-executing where Node has `process.execve`), but it reads `--semi-space-growth-factor` each time a
 * scavenge decides to grow the new space. So after every collection this checks the new space's size, and
 * turns growth off (factor 1) once it reaches the cap and back on (V8's default, 2) when V8 has shrunk it
 * below, as it does when the process idles. V8's flags are the process's, so while growth is off the pool
 * threads' young generations do not grow either: each keeps the size it had when the cap was reached (2 to
 * 16 MiB under the soak's backlog), and a thread started meanwhile stays at its first 1 to 2 MiB, scavenging
 * more often. For that reason pool threads do not compact their heaps when idle under this fallback
 * (workers/idle-heap.ts).
 */
export function capYoungGeneration(signal: AbortSignal, capMib = YOUNG_GENERATION_CAP_MIB): YoungGenerationCap {
  const cap = capMib * 1024 * 1024;
  const seen = { largestMib: 0, capped: 0 };
  let growing = true;
  const check = (): void => {
    const size = getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0;
    seen.largestMib = Math.max(seen.largestMib, size / 1024 / 1024);
    const grow = size < cap;
    if (grow === growing) return;
    growing = grow;
    if (!grow) seen.capped += 1;
    setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  };
  const observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ["gc"] });
  check();
  signal.addEventListener(
    "abort",
    () => {
      observer.disconnect();
      if (!growing) setFlagsFromString("--semi-space-growth-factor=2");
    },
    { once: true },
  );
  return {
    get largestMib() {
      return seen.largestMib;
    },
    get capped() {
      return seen.capped;
    },
  };
}

/** What {@link capYoungGeneration} saw so far. */
export interface YoungGenerationCap {
  /** The largest new space seen after a collection, in MiB: at most one growth step above the cap. */
  readonly largestMib: number;
  /** How many times it turned growth off. */
  readonly capped: number;
}
