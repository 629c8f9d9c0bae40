/**
 * Tracing's cost: the throughput scenario's no-op queue drained by sqsd without an OpenTelemetry SDK (as
 * today: `@opentelemetry/api` alone, every span a no-op) and with one registered by `telemetry.setup` in the
 * supervisor and every thread (bench/telemetry/noop-sdk.ts: all sampled, batch processor, an exporter that
 * drops spans). Every message then has a receive, a process and a settle span. Runs alternate, twice each,
 * so that the two runs without the SDK show the noise the comparison stands in.
 *
 *   npm run bench -- --scenario tracing
 *
 * Target: without an SDK, within noise of today's throughput (compare with `--scenario throughput` on main).
 */
import { availableParallelism } from "node:os";
import { startSqsd } from "../consumers.js";
import { here, measureDrain, type DrainResult, type QueueRef } from "../lib.js";
import { ratio, whole, type Row, type Scenario } from "../report.js";

export const tracing: Scenario = {
  name: "tracing",
  async run({ server, quick, log }) {
    const messages = quick ? 5_000 : 20_000;
    const limitMs = quick ? 20_000 : 45_000;
    const threads = availableParallelism();
    const start = (withSdk: boolean) => (queue: QueueRef) =>
      startSqsd(server.endpoint, {
        queues: [queue.name],
        work: "noop",
        config: {
          pool: { threads, tasksPerThread: 80, prefetch: 160 },
          defaults: { visibilityTimeoutSeconds: 60 },
          ...(withSdk ? { telemetry: { setup: here("./telemetry/noop-sdk.ts") } } : {}),
        },
      });
    const off: DrainResult[] = [];
    const on: DrainResult[] = [];
    for (let round = 0; round < 2; round += 1) {
      for (const withSdk of [false, true]) {
        const name = `tracing-${withSdk ? "sdk" : "none"}-${round}`;
        const result = await measureDrain(server, { queue: name, messages, limitMs, start: start(withSdk) });
        (withSdk ? on : off).push(result);
        log(`${name}: ${Math.round(result.rate)} msg/s, CPU ${result.cpuMsPerMessage.toFixed(3)} ms/msg`);
      }
    }
    const mean = (results: readonly DrainResult[]): number =>
      results.reduce((sum, result) => sum + result.rate, 0) / results.length;
    const rates = (results: readonly DrainResult[]): string => results.map((r) => whole(r.rate)).join(", ");
    const cpu = (results: readonly DrainResult[]): number =>
      results.reduce((sum, result) => sum + result.cpuMsPerMessage, 0) / results.length;
    return [
      {
        measure: `msg/s, SDK + no-op exporter ÷ no SDK (${whole(messages)} no-op messages, 2 runs each)`,
        value: ratio(mean(on), mean(off)),
        detail: `${rates(on)} vs ${rates(off)} msg/s; CPU ${cpu(on).toFixed(3)} vs ${cpu(off).toFixed(3)} ms/msg (means)`,
      },
      {
        measure: "msg/s, no SDK: second run ÷ first (the noise)",
        value: ratio(off[1]!.rate, off[0]!.rate),
        detail: `${rates(off)} msg/s`,
      },
    ] satisfies Row[];
  },
};
