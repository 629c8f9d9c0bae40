import { fixture } from "./paths.js";

/** A config for a daemon under test: fast polls, short visibility, JSON logs, the given fixture receivers. */
export function testConfig(
  sqs: { readonly endpoint: string },
  receivers: readonly string[],
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const { defaults, pool, ...rest } = overrides as { defaults?: object; pool?: object };
  return {
    endpoint: sqs.endpoint,
    region: "us-east-1",
    receivers: receivers.map((name) => fixture("receivers", `${name}.ts`)),
    createQueues: true,
    defaults: { waitTimeSeconds: 1, visibilityTimeoutSeconds: 2, ...defaults },
    pool: { threads: 2, tasksPerThread: 2, ...pool },
    drainTimeoutMs: 20_000,
    log: { level: "debug", format: "json" },
    // SQSD_TEST_SQS_TRANSPORT=sdk runs a suite's daemons with the full SDK client on the hot path.
    ...(process.env["SQSD_TEST_SQS_TRANSPORT"] ? { sqsTransport: process.env["SQSD_TEST_SQS_TRANSPORT"] } : {}),
    ...rest,
  };
}
