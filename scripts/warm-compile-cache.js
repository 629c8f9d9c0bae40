// Warms Node's compile cache for the container image: `node warm-compile-cache.js APP DIR`, run in the image with
// its Node once sqsd (in APP) and its production dependencies are in place, writes V8's code cache of what a
// daemon loads (the supervisor's modules with the SDK, zod, yargs and winston; a pool thread's; the HTTP and
// schedules code) into DIR. bin/sqsd.js copies DIR into the temporary directory at a start that finds none
// there, since Node uses only a cache it can write to and /app is read-only. Nothing here runs a command: the
// modules are only imported. A cache is keyed by Node's version and each file's path and contents, so it is
// valid only in the image it was made in.
import { chmodSync, readdirSync } from "node:fs";
import module from "node:module";
import { join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL, URL } from "node:url";

const [appDirectory, directory] = process.argv.slice(2);
if (!appDirectory || !directory) throw new Error("usage: node warm-compile-cache.js APP DIR");
const { status, message } = module.enableCompileCache(resolve(directory));
if (status === module.constants.compileCacheStatus.FAILED) throw new Error(`compile cache: ${message}`);
const app = pathToFileURL(`${resolve(appDirectory)}/`);
for (const file of [
  "dist/src/cli.js",
  "dist/src/commands/run.js",
  "dist/src/commands/run-http.js",
  "dist/src/commands/run-schedules.js",
  "dist/src/commands/healthcheck.js",
  "dist/src/index.js",
  "dist/src/thread-api.js",
  "dist/workers/task-runner.js",
]) {
  await import(new URL(file, app).href);
}
module.flushCompileCache();
// Node writes its cache files for its own user only (0600), and the image builds as root while the daemon runs as
// `node`: readable for all, or bin/sqsd.js cannot copy them and every start compiles afresh. The cache holds
// compiled code of the image's public modules, nothing secret.
for (const entry of readdirSync(resolve(directory), { recursive: true, withFileTypes: true })) {
  chmodSync(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
}
