import { Counter, Gauge, type Registry } from "prom-client";
import type { ScheduleRunner } from "../schedules/runner.js";

/**
 * The schedules' metrics. Every replica offers every tick, so `sqsd_schedule_ticks_total{stage="offered"}`
 * counts ticks per replica, and the sum of `stage="forwarded"` over all replicas counts the messages the
 * schedules' queues received: one per tick when all is well.
 */
export function registerScheduleMetrics(registry: Registry, schedules: ScheduleRunner): void {
  const registers = [registry];
  const ticks = new Counter({
    name: "sqsd_schedule_ticks_total",
    help: 'Schedule ticks: "offered" to the schedules queue by this replica, "forwarded" to the target queue by it, "failed" forwards.',
    labelNames: ["schedule", "stage"],
    registers,
  });
  for (const { name } of schedules.status()) {
    // Present from the start at 0, so that rate() and absence alerts work before the first tick.
    for (const stage of ["offered", "forwarded", "failed"]) ticks.inc({ schedule: name, stage }, 0);
  }
  schedules.events.on("offered", (schedule) => ticks.inc({ schedule, stage: "offered" }));
  schedules.events.on("forwarded", (schedule) => ticks.inc({ schedule, stage: "forwarded" }));
  schedules.events.on("forwardFailed", (schedule) => ticks.inc({ schedule, stage: "failed" }));
  new Gauge({
    name: "sqsd_schedule_last_tick_timestamp_seconds",
    help: "Time of the last tick this replica saw come due (epoch seconds); absent before the first.",
    labelNames: ["schedule"],
    registers,
    collect() {
      this.reset();
      for (const status of schedules.status()) {
        if (status.lastTick) this.set({ schedule: status.name }, Date.parse(status.lastTick) / 1000);
      }
    },
  });
  // The offered tick moves while forwards are stuck (the target is down): this one is what reached the target.
  new Gauge({
    name: "sqsd_schedule_last_forwarded_tick_timestamp_seconds",
    help: "Time of the last tick this replica forwarded to the target queue (epoch seconds); absent before the first.",
    labelNames: ["schedule"],
    registers,
    collect() {
      this.reset();
      for (const status of schedules.status()) {
        if (status.lastForwardedTick) {
          this.set({ schedule: status.name }, Date.parse(status.lastForwardedTick) / 1000);
        }
      }
    },
  });
}
