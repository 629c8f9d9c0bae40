/**
 * Imports users' modules (config, receivers, telemetry setup), which are usually TypeScript. On Node 22.18+
 * and 24 (`process.features.typescript`), Node strips erasable types itself, and that is tried first: it
 * costs nothing to load, while tsx costs each thread its hooks, esbuild and a transform per file. Node refuses
 * some TypeScript users write (`.js` specifiers for `.ts` files, enums, parameter properties, namespaces,
 * `.tsx`, decorators, type-only imports without `type`: see docs/architecture.md); on such a refusal tsx's
 * hooks are registered and the same module is imported again. That retry is safe: each refusal is raised while
 * Node resolves, parses or links the module graph, before any of its modules runs, and Node 24 does not keep
 * the failed module in its cache (checked on 24.22). The supervisor decides this as it loads the config and the
 * receivers, and tells the pool threads through their workerData ({@link useTypeScriptLoader}), so a thread
 * never tries twice. tsx rather than a bundler or jiti: it goes through Node's own module graph, so a
 * receiver's `import "sqsd"` resolves to the same module instance the daemon uses, in worker threads too.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";
import { TempDirError } from "./errors.js";
import { recordTypeScriptSources } from "./typescript-sources.js";

/**
 * Which loader this thread used for TypeScript: `native` (Node's type stripping), `tsx`, or `none` (no
 * TypeScript module imported). Named in the daemon's start-up log.
 */
export type TypeScriptLoader = "native" | "tsx" | "none";

const TYPESCRIPT_FILE = /\.[cm]?tsx?$/;

/** Error codes with which Node refuses a TypeScript module graph that tsx can load. */
const NATIVE_REFUSALS = new Set([
  "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX",
  "ERR_INVALID_TYPESCRIPT_SYNTAX",
  "ERR_MODULE_NOT_FOUND",
  "ERR_UNKNOWN_FILE_EXTENSION",
  "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING",
  "ERR_PACKAGE_IMPORT_NOT_DEFINED",
]);

let registration: Promise<void> | undefined;
/** `tsx` once told so or once Node refused a module; `native` while Node's own stripping is tried. */
let preferred: "native" | "tsx" | undefined;
let importedTypeScript = false;

/**
 * Registers tsx's ESM and CommonJS hooks in this thread; later calls are free. Throws {@link TempDirError} if
 * the temporary directory cannot be written: tsx would wait forever there, silently.
 */
export function enableTypeScript(): Promise<void> {
  registration ??= (async () => {
    assertWritableTempDir();
    const [{ register: registerEsm }, { register: registerCjs }] = await Promise.all([
      import("tsx/esm/api"),
      import("tsx/cjs/api"),
    ]);
    registerEsm();
    registerCjs();
  })();
  return registration;
}

/**
 * Sets the loader the supervisor settled on, in a pool thread, before its first import: `tsx` registers tsx
 * before the first TypeScript module; `native` and `none` try Node's own first (and still fall back to tsx on
 * a refusal, though the supervisor loaded the same files natively).
 */
export function useTypeScriptLoader(loader: TypeScriptLoader): void {
  if (loader === "tsx") preferred = "tsx";
}

/** The loader this thread used for TypeScript so far: tsx once registered, else native if any was imported. */
export function typeScriptLoader(): TypeScriptLoader {
  if (registration) return "tsx";
  return importedTypeScript ? "native" : "none";
}

/** Whether this Node strips types itself: 22.18+ and 23.6+ without a flag (false before, or with it off). */
export function nativeTypeScript(): boolean {
  const mode = (process.features as { typescript?: unknown }).typescript;
  return mode === "strip" || mode === "transform";
}

/**
 * Imports a user's module by absolute path, TypeScript or JavaScript. TypeScript goes through Node's own type
 * stripping where it can, else through tsx (see the module's comment). `SQSD_TYPESCRIPT_LOADER=tsx` skips the
 * native attempt.
 */
export async function importUserModule(absolutePath: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(absolutePath).href;
  if (!TYPESCRIPT_FILE.test(absolutePath)) return (await import(url)) as Record<string, unknown>;
  importedTypeScript = true;
  preferred ??= nativeTypeScript() && process.env["SQSD_TYPESCRIPT_LOADER"] !== "tsx" ? "native" : "tsx";
  if (preferred === "native") {
    // The supervisor keeps what Node strips, so that pool threads need not load the stripper themselves.
    if (isMainThread) recordTypeScriptSources();
    try {
      return (await import(url)) as Record<string, unknown>;
    } catch (error) {
      if (!refusedByNode(error)) throw error;
      preferred = "tsx";
    }
  }
  await enableTypeScript();
  return (await import(url)) as Record<string, unknown>;
}

/**
 * Whether Node refused the module graph before running any of it (tsx may load it): one of the codes above,
 * or a SyntaxError raised by Node's own parsing or linking (its first frame is Node's, not the module's), as
 * for decorators or a type imported without `type`. A SyntaxError a module throws while running is not one.
 */
function refusedByNode(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return NATIVE_REFUSALS.has(code);
  if (error.name !== "SyntaxError") return false;
  const firstFrame = (error.stack ?? "").split("\n").find((line) => line.trimStart().startsWith("at "));
  return firstFrame === undefined || /\(node:internal\/|at node:internal\//.test(firstFrame);
}

/**
 * The module's default export. A `.ts` file in a CommonJS package comes back from tsx as Node's CommonJS
 * wrapper around `{ __esModule: true, default: value }`, so that marker is unwrapped.
 */
export function defaultExport(namespace: Record<string, unknown>): unknown {
  const value = namespace["default"];
  if (typeof value === "object" && value !== null && (value as { __esModule?: unknown }).__esModule === true) {
    return (value as { default?: unknown }).default;
  }
  return value;
}

/** Creates and removes a folder in the temporary directory, or throws {@link TempDirError}. */
function assertWritableTempDir(): void {
  const dir = tmpdir();
  try {
    rmSync(mkdtempSync(join(dir, "sqsd-")), { recursive: true, force: true });
  } catch (error) {
    throw new TempDirError(dir, error);
  }
}
