// `npm ci`'s prepare step: builds dist/ with TypeScript when it is installed. A production install
// (`npm ci --omit=dev`) has no TypeScript, and must still succeed: it skips the build and says so, since its
// dist/ comes from a build stage or from the published package, which `npm pack` builds (prepare runs there
// too, in a development install).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

let tsc;
try {
  tsc = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");
} catch (error) {
  if (error?.code !== "MODULE_NOT_FOUND") throw error;
  process.stdout.write(
    "sqsd prepare: TypeScript is not installed (a production install), so dist/ is not built here\n",
  );
  process.exit(0);
}

const build = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
// The dashboard's charting library, copied from its npm package into dist/vendor/ (see vendor-assets.js).
const vendor = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), "vendor-assets.js")], {
  stdio: "inherit",
});
process.exit(vendor.status ?? 1);
