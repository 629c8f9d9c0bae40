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
 * supervisor's semi-space ceiling, unless it already runs with one; in the re-executed process, clears the flag
 * for the isolates made later (the pool threads'). Any other command, an operator's own
 * `--max-semi-space-size`, or a Node without `process.execve` starts as it is (the daemon then falls back to
 * the runtime toggle). Returns what it did when it did not re-execute.
 */
export function startWithYoungGenerationCap({
  argv,
  env,
  execve,
}: StartOptions): "reexecuted" | "operator" | "not a daemon" | "no execve" {
  if (env[REEXECUTED_ENV] !== undefined) {
    delete env[REEXECUTED_ENV];
    // 0 is V8's default: pool threads' isolates are sized as V8 sizes them. This isolate keeps its ceiling.
    setFlagsFromString("--max-semi-space-size=0");
    return "reexecuted";
  }
  if (semiSpaceFlagSet(process.execArgv, env["NODE_OPTIONS"] ?? "")) return "operator";
  if (readRunArgv(argv) === undefined) return "not a daemon";
  if (execve === undefined) return "no execve";
  const args = [process.execPath, `--max-semi-space-size=${SUPERVISOR_SEMI_SPACE_MIB}`, ...process.execArgv];
  return execve(process.execPath, [...args, ...process.argv.slice(1)], { ...env, [REEXECUTED_ENV]: "1" });
}
