/**
 * Makes "sqsd" resolve, in this pool thread, to the package's thread entry (src/thread-api.ts, through the
 * `sqsd-pool-thread` export condition): receiver modules then register without loading zod, whose rules the
 * supervisor already applied to the same calls. Node's in-thread resolve hook (module.registerHooks, Node 22.15+
 * and 24) adds the condition to every resolution in this thread only; the supervisor keeps the full entry. On a
 * Node without it the thread loads the full entry, which works the same and costs more memory.
 */
import module from "node:module";

/** The export condition a pool thread resolves with (package.json `exports`). */
export const POOL_THREAD_CONDITION = "sqsd-pool-thread";

interface ResolveContext {
  readonly conditions?: readonly string[];
}
type NextResolve = (specifier: string, context?: ResolveContext) => unknown;
type RegisterHooks = (hooks: {
  resolve: (specifier: string, context: ResolveContext, nextResolve: NextResolve) => unknown;
}) => unknown;

/** Turns the thread condition on for every module this thread resolves from now on; false if Node cannot. */
export function resolveAsPoolThread(): boolean {
  // Not in @types/node yet.
  const registerHooks = (module as unknown as { registerHooks?: RegisterHooks }).registerHooks;
  if (typeof registerHooks !== "function") return false;
  registerHooks.call(module, {
    resolve: (specifier, context, nextResolve) =>
      nextResolve(specifier, { ...context, conditions: [POOL_THREAD_CONDITION, ...(context.conditions ?? [])] }),
  });
  return true;
}
