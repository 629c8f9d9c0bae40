// What each thread of a process loads: `node --import ./bench/module-loads.mjs ...` (or in NODE_OPTIONS, which
// worker threads inherit) appends `<threadId>\t<url>` to the file named by SQSD_MODULE_LOG for every module
// loaded, ESM or CommonJS, through Node's in-thread hooks (module.registerHooks: Node 22.15+ and 24).
// bench/module-report.ts sums such a log by thread and package. Plain JavaScript: it must load before tsx.
import { appendFileSync } from "node:fs";
import module from "node:module";
import { threadId } from "node:worker_threads";

const file = process.env.SQSD_MODULE_LOG;
if (file && typeof module.registerHooks === "function") {
  module.registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      appendFileSync(file, `${threadId}\t${url}\n`);
      return result;
    },
  });
}
