/**
 * TypeScript that pool threads need not strip themselves. Node's type stripping runs a WebAssembly build of swc
 * that each thread instantiates at its first TypeScript module: about 10 MiB of RSS per thread, for modules
 * the supervisor has already stripped while it loaded the same receivers. So the supervisor keeps the source of
 * every ES module Node loaded as TypeScript ({@link recordTypeScriptSources}), the pool hands the threads the
 * stripped text ({@link strippedTypeScriptSources}), and a thread's load hook returns that text as JavaScript
 * ({@link useStrippedSources}). Stripping blanks the types out in place, so line and column numbers, and with
 * them every stack trace, stay those of the file. A module the supervisor did not load, a CommonJS one, or one
 * that cannot be stripped here is left to Node in the thread, which then strips it as before. Only for Node's
 * own loader (`native`, see loader.ts): under tsx the threads register tsx, as the supervisor did.
 */
import module from "node:module";

/** A module's JavaScript, by its file URL: what a pool thread loads instead of its TypeScript. */
export type StrippedSources = Readonly<Record<string, string>>;

/** Node's in-thread hooks (22.15+ and 24; not in @types/node yet), the part used here. */
interface LoadResult {
  readonly format?: string | null | undefined;
  readonly source?: string | ArrayBuffer | NodeJS.TypedArray | null | undefined;
  readonly shortCircuit?: boolean;
}
type NextLoad = (url: string, context?: unknown) => LoadResult;
type RegisterHooks = (hooks: { load: (url: string, context: unknown, nextLoad: NextLoad) => LoadResult }) => unknown;
type StripTypes = (code: string, options: { mode: "strip" }) => string;

const registerHooks = (module as unknown as { registerHooks?: RegisterHooks }).registerHooks;
const stripTypes = (module as unknown as { stripTypeScriptTypes?: StripTypes }).stripTypeScriptTypes;

/** TypeScript sources as Node read them, until stripped; then their JavaScript (undefined: left to Node). */
const recorded = new Map<string, { typescript: string } | { javascript: string | undefined }>();
let recording = false;

/**
 * From now on, keeps the source of each ES module this thread loads as TypeScript. Called by the supervisor
 * before it imports a user's TypeScript; the hook only reads what Node loads, and changes nothing.
 */
export function recordTypeScriptSources(): void {
  if (recording || typeof registerHooks !== "function" || typeof stripTypes !== "function") return;
  // With Node's compile cache on (bin/sqsd.js turns it on), a thread reads the receivers' stripped code from the
  // cache and never loads the stripper; stripping here would load it into the supervisor instead (6-10 MB of
  // RSS, measured with the startup scenario: 113 MB idle without this, 124 MB with it). Only a thread started
  // before the cache holds the receivers (the first start after a change) strips them itself.
  if ((module as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.() !== undefined) return;
  recording = true;
  registerHooks.call(module, {
    load: (url, context, nextLoad) => {
      const result = nextLoad(url, context);
      if (result.format === "module-typescript" && result.source != null && !recorded.has(url)) {
        recorded.set(url, { typescript: text(result.source) });
      }
      return result;
    },
  });
}

/**
 * The JavaScript of every module {@link recordTypeScriptSources} kept, stripped once and remembered (threads
 * started later, replacements among them, get the same). A module that does not strip is left out.
 */
export function strippedTypeScriptSources(): StrippedSources {
  const sources: Record<string, string> = {};
  for (const [url, entry] of recorded) {
    const javascript = "javascript" in entry ? entry.javascript : strip(entry.typescript);
    recorded.set(url, { javascript });
    if (javascript !== undefined) sources[url] = javascript;
  }
  return sources;
}

/**
 * In a pool thread, before its first import: loads each module of `sources` from its JavaScript rather than
 * stripping it again. Returns a function that stops it (once the receivers are loaded, the text is not needed:
 * Node keeps the modules). False where Node has no in-thread hooks.
 */
export function useStrippedSources(sources: StrippedSources): (() => void) | false {
  if (typeof registerHooks !== "function") return false;
  let remaining: StrippedSources | undefined = sources;
  registerHooks.call(module, {
    load: (url, context, nextLoad) => {
      const source = remaining?.[url];
      return source === undefined ? nextLoad(url, context) : { format: "module", source, shortCircuit: true };
    },
  });
  return () => void (remaining = undefined);
}

function text(source: string | ArrayBuffer | NodeJS.TypedArray): string {
  if (typeof source === "string") return source;
  const bytes = ArrayBuffer.isView(source) ? source : new Uint8Array(source);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

/** Node's own stripping, without its one-time notice that the function is experimental (the loader's is not). */
function strip(typescript: string): string | undefined {
  const warnings = process as { emitWarning: (warning: unknown, ...rest: unknown[]) => void };
  const emitWarning = warnings.emitWarning;
  warnings.emitWarning = (warning, ...rest) => {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type;
    if (type === "ExperimentalWarning" && String(warning).includes("stripTypeScriptTypes")) return;
    emitWarning.call(process, warning, ...rest);
  };
  try {
    return stripTypes!(typescript, { mode: "strip" });
  } catch {
    // Node refuses what it cannot strip (an enum, say); the thread's own loader then says why, as before.
    return undefined;
  } finally {
    warnings.emitWarning = emitWarning;
  }
}
