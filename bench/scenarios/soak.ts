/**
 * Soak: the memory scenario (scenarios/memory.ts) for 10 minutes instead of one, which is long enough to tell a
 * leak from a heap still settling. 100,000 messages are queued and the bench tops the queue back up to
 * 100,000 every 5 s, so the backlog stays deep to the end (at some 500 msg/s the daemon would empty it in
 * about 3 minutes, and an idle last third would shrink the heap and hide a leak). The handlers alternate a
 * no-op and a 50 ms wait (`mix:50`), so quick and slow jobs share the slots. 2 threads × 8 tasks, prefetch 20;
 * RSS and /metrics sampled every second, the first 30 s left out as warm-up.
 *
 * Targets: the RSS floor (lowest sample) of the last third at most 10 MB above that of the first third;
 * running never above `sqsd_max_in_flight`; buffered never above the prefetch.
 *
 * Not part of the default run (it takes 11 minutes); `npm run bench -- --scenario soak`, or with `--quick`
 * 2 minutes over 20,000 queued.
 */
import type { Scenario } from "../report.js";
import { backlogMemory } from "./memory.js";

export const soak: Scenario = {
  name: "soak",
  run: (context) =>
    backlogMemory(context, {
      queue: "soak-backlog",
      messages: context.quick ? 20_000 : 100_000,
      seconds: context.quick ? 120 : 600,
      warmUpSeconds: context.quick ? 10 : 30,
      work: "mix:50",
      workDetail: "handlers alternate no-op and 50 ms",
      keepQueued: true,
    }),
};
