#!/usr/bin/env node
// Plain JavaScript that runs before any of sqsd loads: it caps a daemon's young generation, turns on Node's
// compile cache, then imports the CLI (dynamically: a static import would load it first).
import { cpSync, existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// First, before anything loads: a daemon's start re-executes itself once (the same pid) with its young
// generation capped on the supervisor's isolate alone (src/process/young-generation.ts).
const { startWithYoungGenerationCap } = await import("../dist/src/cli/young-generation-start.js");
startWithYoungGenerationCap({ argv: process.argv.slice(2), env: process.env, execve: process.execve?.bind(process) });
enableCompileCache();
const { runCli } = await import("../dist/src/cli.js");
await runCli();

/**
 * Node's compile cache keeps V8's code cache of every module loaded, so a start after the first one reads
 * compiled code instead of parsing and compiling sqsd's, the SDK's and the receivers' modules again (and Node's
 * TypeScript stripper is not loaded for receivers it stripped before): less CPU and memory at every start.
 *
 * The directory is NODE_COMPILE_CACHE's, else `sqsd-compile-cache-UID` in the temporary directory;
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off. Node uses only a directory it can write to, so the container
 * image's cache, warmed at build time in read-only /app (scripts/warm-compile-cache.js), is copied into the
 * temporary directory when that has none yet. The cache holds code to run, so a directory others could write
 * to is not used: it must belong to this user (or root) and be writable by no one else. Pool threads are Node
 * instances of their own that read NODE_COMPILE_CACHE when they start, so it is set for them. Any failure
 * leaves the cache off, as if Node had none.
 */
function enableCompileCache() {
  if (process.env.NODE_DISABLE_COMPILE_CACHE || typeof module.enableCompileCache !== "function") return;
  const uid = process.getuid?.() ?? 0;
  const directory = process.env.NODE_COMPILE_CACHE || join(tmpdir(), `sqsd-compile-cache-${uid}`);
  const seed = fileURLToPath(new URL("../compile-cache/", import.meta.url));
  try {
    // Not `recursive`: on some paths (/proc/sys) Node's recursive mkdir never returns.
    if (!existsSync(directory)) mkdirSync(directory, { mode: 0o700 });
    const stats = lstatSync(directory);
    const trusted = stats.isDirectory() && (stats.uid === uid || stats.uid === 0) && (stats.mode & 0o022) === 0;
    if (!trusted) return;
    // Once per directory: entries already there (written by an earlier start) are kept.
    const seeded = join(directory, "sqsd-seeded");
    if (existsSync(seed) && !existsSync(seeded)) {
      cpSync(seed, directory, { recursive: true, force: false });
      writeFileSync(seeded, "");
    }
    const { status } = module.enableCompileCache(directory);
    if (status === module.constants.compileCacheStatus.FAILED) return;
    process.env.NODE_COMPILE_CACHE = directory;
  } catch {
    // A read-only or missing temporary directory: start without the cache, as Node would.
  }
}
