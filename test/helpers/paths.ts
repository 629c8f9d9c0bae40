import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file whether it runs compiled (dist/test/helpers) or not. */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || dir.endsWith("dist")) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root");
    dir = parent;
  }
  return dir;
})();

/** Absolute path of a file under test/fixtures. */
export function fixture(...parts: string[]): string {
  return join(repoRoot, "test", "fixtures", ...parts);
}

/** The `sqsd` executable as users run it. */
export const sqsdBin = join(repoRoot, "bin", "sqsd.js");
