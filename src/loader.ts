/**
 * Imports users' modules (config and receivers), which are usually TypeScript. Node's own type stripping (22.18
 * and later) cannot load every such file (`.js` specifiers for `.ts` files, enums, parameter properties; see
 * docs/architecture.md), so tsx's loader hooks are registered once per thread before the first `.ts` import. tsx rather than
 * a bundler or jiti: it goes through Node's own module graph, so a receiver's `import "sqsd"` resolves to the
 * same module instance the daemon uses, and it works the same in worker threads.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { TempDirError } from "./errors.js";

let registration: Promise<void> | undefined;

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

/** Imports a user's module by absolute path, TypeScript or JavaScript. */
export async function importUserModule(absolutePath: string): Promise<Record<string, unknown>> {
  if (/\.[cm]?tsx?$/.test(absolutePath)) await enableTypeScript();
  return (await import(pathToFileURL(absolutePath).href)) as Record<string, unknown>;
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
