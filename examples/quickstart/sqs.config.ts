import { defineConfig } from "sqsd";

// With no SQS endpoint in the environment, the daemon starts its embedded local SQS server (on a free port,
// printed at start-up), so the quick start needs no AWS account. Set AWS_ENDPOINT_URL_SQS to use another
// server (ElasticMQ, LocalStack) instead.
const externalEndpoint = process.env["AWS_ENDPOINT_URL_SQS"];

export default defineConfig({
  ...(externalEndpoint ? { endpoint: externalEndpoint } : { endpoint: "embedded", embedded: { port: 0 } }),
  createQueues: true,
  receivers: ["./receivers.ts"],
  pool: { threads: 2, tasksPerThread: 4 },
  // A drain lets long polls under way return rather than abort them, so Ctrl-C takes up to waitTimeSeconds.
  // 5 s keeps the demo snappy; production keeps the default 20 s, which costs the fewest requests.
  defaults: { visibilityTimeoutSeconds: 30, waitTimeSeconds: 5 },
  drainTimeoutMs: 10_000,
  // debug shows a structured record per message; production usually runs at info.
  log: { level: "debug", format: "pretty" },
});
