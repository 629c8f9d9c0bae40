/**
 * A daemon's first step (bin/sqsd.js): re-executing itself with the supervisor's young generation capped on its
 * own isolate (src/process/young-generation.ts explains why).
 */
import { setFlagsFromString } from "node:v8";
import { REEXECUTED_ENV, semiSpaceFlagSet, SUPERVISOR_SEMI_SPACE_MIB } from "../process/young-generation.js";
import { readRunArgv } from "./run-argv.js";

/** How a start goes: `execve` is `process.execve`, or undefined where Node has none. */
export interface StartOptions {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly execve: ((file: string, args: readonly string[], env: NodeJS.ProcessEnv) => never) | undefined;
}

/**
 * For a daemon's start (`sqsd [run] ...` as the plain-run reader reads it), re-executes this process with the
 * supervisor's semi-space ceiling (and glibc's malloc arenas limited, see {@link MALLOC_ARENAS}), unless it
 * already runs with one; in the re-executed process, clears the flag
 * for the isolates made later (the pool threads'). Any other command, an operator's own
 * `--max-semi-space-size`, or a Node without `process.execve` starts as it is (the daemon then falls back to
 * the runtime toggle). Returns what it did when it did not re-execute.
 */
export function startWithYoungGenerationCap({
  argv,
  env,
  execve,
}: StartOptions): "reexecuted" | "operator" | "not a daemon" | "no execve" | "execve failed" {
  const marker = env[REEXECUTED_ENV];
  if (marker !== undefined) {
    delete env[REEXECUTED_ENV];
    // glibc read it when this process started; a handler's child process gets the environment it was given.
    if (marker === SET_ARENAS) delete env["MALLOC_ARENA_MAX"];
    // 0 is V8's default: pool threads' isolates are sized as V8 sizes them. This isolate keeps its ceiling.
    setFlagsFromString("--max-semi-space-size=0");
    return "reexecuted";
  }
  if (semiSpaceFlagSet(process.execArgv, env["NODE_OPTIONS"] ?? "")) return "operator";
  if (readRunArgv(argv) === undefined) return "not a daemon";
  if (execve === undefined) return "no execve";
  const args = [process.execPath, `--max-semi-space-size=${SUPERVISOR_SEMI_SPACE_MIB}`, ...process.execArgv];
  const arenas =
    env["MALLOC_ARENA_MAX"] === undefined ? { MALLOC_ARENA_MAX: MALLOC_ARENAS, [REEXECUTED_ENV]: SET_ARENAS } : {};
  try {
    return execve(process.execPath, [...args, ...process.argv.slice(1)], { ...env, [REEXECUTED_ENV]: "1", ...arenas });
  } catch {
    // A sandbox that forbids exec (seccomp, EACCES) or a missing binary: start as it is, as without execve;
    // the daemon then caps its young generation with the runtime toggle (src/process/heap-sizing.ts).
    return "execve failed";
  }
}

/**
 * glibc's malloc arenas for the re-executed daemon (`MALLOC_ARENA_MAX`, unless the environment sets it): by
 * default glibc gives each thread that contends for one an arena of its own, up to 8 per core, and a daemon
 * runs a dozen threads (the supervisor, pool threads, V8's and libuv's workers) while V8 keeps its heaps in
 * its own pages, not malloc's. Measured on the start-up scenario's idle daemon (one queue, default pool, Node
 * 24, load 11): RSS 98.8k → 97.2k kB, anonymous pages 41.4k → 39.8k kB. musl ignores it.
 */
const MALLOC_ARENAS = "2";

/** The marker's value when the re-execution set `MALLOC_ARENA_MAX`, which the daemon then removes again. */
const SET_ARENAS = "arenas";
