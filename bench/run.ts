/**
 * The bench: sqsd beside its peers (a raw @aws-sdk/client-sqs loop and sqs-consumer) in a set of scenarios,
 * each against a fresh local SQS server in its own process, printed as one markdown table.
 *
 *   npm run bench                                   every scenario, full size (8–9 minutes on a busy 2-core machine)
 *   npm run bench -- --quick                        smaller sizes and shorter windows (about 4 minutes)
 *   npm run bench -- --scenario throughput [--scenario latency ...]
 *   npm run bench:sse                               the dashboard's stream alone: 1 vs 50 SSE clients
 *   npm run bench -- --scenario tracing             tracing's cost alone (scenarios/tracing.ts)
 *   npm run bench -- --scenario startup             start to first message, idle RSS, thread replacement
 *   npm run bench -- --scenario soak                memory over 10 minutes (2 with --quick); only when named
 *   npm run bench -- --scenario client              CPU per request by SQS client variant (scenarios/client.ts)
 *   npm run bench -- --scenario bursts              send → start of bursts over 4 and 100 queues, fauxqs and moto
 *
 * Progress goes to stderr and the table to stdout. Read the ratios: absolute rates on a shared machine move
 * from run to run, while consumers measured back to back on one server move together.
 */
import { availableParallelism, cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startServer } from "./lib.js";
import { markdownTable, type Results, type Scenario } from "./report.js";
import { bursts } from "./scenarios/bursts.js";
import { client } from "./scenarios/client.js";
import { cpuBound } from "./scenarios/cpu-bound.js";
import { latency } from "./scenarios/latency.js";
import { manyQueues } from "./scenarios/many-queues.js";
import { memory } from "./scenarios/memory.js";
import { soak } from "./scenarios/soak.js";
import { sse } from "./scenarios/sse.js";
import { startup } from "./scenarios/startup.js";
import { throughput } from "./scenarios/throughput.js";
import { tracing } from "./scenarios/tracing.js";

// Every process of the run inherits this: the AWS SDK's notice that it will need Node 22 would interleave with
// the results of each consumer that uses it.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";

const scenarios: readonly Scenario[] = [
  client,
  manyQueues,
  throughput,
  cpuBound,
  latency,
  bursts,
  memory,
  startup,
  tracing,
  sse,
];
/** Scenarios too long for every run: they run only when `--scenario` names them. */
const onRequest: readonly Scenario[] = [soak];

const { values } = parseArgs({
  options: {
    scenario: { type: "string", multiple: true },
    quick: { type: "boolean", default: false },
  },
});
const known = [...scenarios, ...onRequest];
const unknown = (values.scenario ?? []).filter((name) => !known.some((scenario) => scenario.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(", ")}; choose from ${known.map((s) => s.name).join(", ")}`);
  process.exit(2);
}
const selected =
  values.scenario === undefined ? scenarios : known.filter((scenario) => values.scenario!.includes(scenario.name));

const began = performance.now();
const elapsed = (): string => `${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s`;
const results: { scenario: string; rows: Results[number]["rows"] }[] = [];
for (const scenario of selected) {
  const log = (line: string): void => console.error(`[${elapsed()}] ${scenario.name}: ${line}`);
  log("starting");
  const server = await startServer();
  try {
    results.push({ scenario: scenario.name, rows: await scenario.run({ server, quick: values.quick, log }) });
  } catch (error) {
    // One scenario's failure is a row of the table, not the end of the others.
    log(`failed: ${String(error)}`);
    results.push({ scenario: scenario.name, rows: [{ measure: "the scenario failed", value: String(error) }] });
  } finally {
    await server.stop();
  }
}

const flags = [...(values.quick ? ["--quick"] : []), ...(values.scenario ?? []).map((name) => `--scenario ${name}`)];
console.log(
  `\n\`npm run bench${flags.length > 0 ? ` -- ${flags.join(" ")}` : ""}\` on ${availableParallelism()} × ` +
    `${cpus()[0]?.model.trim() ?? "CPU"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ` +
    `took ${elapsed().trim()}, load average at the end ${loadavg()[0]!.toFixed(1)}:\n`,
);
console.log(markdownTable(results));
