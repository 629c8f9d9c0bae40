// Copies the dashboard's charting library, uPlot, from its npm package into dist/vendor/, which the package
// ships (package.json "files"): the daemon serves it to the page, so the dashboard needs no CDN and works
// offline. Run by `npm run build` and by the prepare step; never edit dist/vendor/ by hand.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const uplot = join(dirname(require.resolve("uplot/package.json")), "dist");
const target = join(root, "dist", "vendor");
mkdirSync(target, { recursive: true });
for (const file of ["uPlot.iife.min.js", "uPlot.min.css"]) copyFileSync(join(uplot, file), join(target, file));
copyFileSync(join(uplot, "..", "LICENSE"), join(target, "uPlot.LICENSE"));
process.stdout.write(`sqsd: copied uPlot into ${target}\n`);
