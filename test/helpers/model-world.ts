import { resolveConfig } from "../../src/config/resolve.js";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import { Supervisor, type StopReport } from "../../src/supervisor/supervisor.js";
import type { PollTarget } from "../../src/supervisor/target.js";
import { memoryLogger } from "./memory-logger.js";
import { ModelPool, type RunEnding } from "./model-pool.js";
import { ModelSqs, type SqsFault } from "./model-sqs.js";
import { ModelTimers, realDelay, settle } from "./model-timers.js";

/** One queue of a model world. */
export interface ModelQueueSpec {
  readonly fifo: boolean;
  readonly weight: number;
  /** The receiver's `concurrency`; undefined for none. */
  readonly concurrency: number | undefined;
}

/** The daemon's configuration in a model world. */
export interface ModelWorldSpec {
  readonly queues: readonly ModelQueueSpec[];
  readonly maxInFlight: number;
  readonly prefetch: number;
  readonly maxBuffered: number;
  readonly visibilityTimeoutSeconds: number;
  readonly waitTimeSeconds: number;
  readonly idleBackoff: boolean;
  /** 1 makes a drain interrupt the handlers still running; a long one lets them finish. */
  readonly drainTimeoutMs: number;
  /** How long SQS's answers take to come back (fake ms). */
  readonly latencyMs: number;
  /** Seconds a RestartLater answer asks for. */
  readonly restartLaterSeconds: number;
}

/** One thing that happens to the daemon; the property test draws sequences of them. */
export type ModelStep =
  | { readonly kind: "send"; readonly queue: number; readonly groups: readonly number[] }
  | { readonly kind: "short"; readonly queue: number; readonly count: number }
  | { readonly kind: "advance"; readonly ms: number }
  | { readonly kind: "end"; readonly pick: number; readonly ending: RunEnding }
  | { readonly kind: "hang"; readonly pick: number }
  | { readonly kind: "pause" }
  | { readonly kind: "resume" }
  | { readonly kind: "pauseQueue"; readonly queue: number }
  | { readonly kind: "resumeQueue"; readonly queue: number }
  | { readonly kind: "wake" }
  | { readonly kind: "fault"; readonly fault: ModelFault }
  | { readonly kind: "drain" };

/** A fault, naming its queue by index. */
export type ModelFault =
  | { readonly action: "receive"; readonly queue: number; readonly error: "unavailable" | "throttle" | "network" }
  | Extract<SqsFault, { action: "ack" | "outage" }>;

/** How long the finishing phase may move fake time while it waits for the drain to end. */
const FINISH_LIMIT_MS = 10 * 60_000;

/**
 * The real Supervisor over the model SQS, the model pool and fake time: built from a spec, driven one step at
 * a time through its public API only (start, pause and resume, per queue and daemon-wide, wake, drain,
 * health), so a rewrite of its insides leaves the model test standing.
 */
export class ModelWorld {
  readonly spec: ModelWorldSpec;
  readonly timers = new ModelTimers();
  readonly sqs = new ModelSqs();
  readonly pool = new ModelPool(() => this.timers.now());
  readonly records: ReturnType<typeof memoryLogger>["records"];
  readonly targets: readonly PollTarget[];
  readonly supervisor: Supervisor;
  /** Faults injected on acks so far: a delete may then be lost, as at-least-once allows. */
  ackFaults = 0;
  /** Set once a drain was asked for; holds its report when it ended. */
  drainAsked = false;
  report: StopReport | undefined;

  /**
   * Per queue URL, how many receives had begun when the last wake came. While no receive has begun since, the
   * wake is unseen and must end any idle pause, including one an answer still on its way would start.
   */
  readonly wokenAt = new Map<string, number>();
  /** When a run of each queue (full name) last crashed its thread: the queue is then held back a while. */
  readonly crashedAt = new Map<string, number>();
  /** Fake ms the drain took from the start of {@link ModelWorld.finish}; undefined when hung runs made it wait on real time. */
  drainMs: number | undefined;
  /** The step just applied (for the invariants that only hold after some steps). */
  lastStep: ModelStep | undefined;

  constructor(spec: ModelWorldSpec) {
    this.spec = spec;
    this.timers.install();
    // Backoff jitter draws from Math.random: a fixed stream makes a sequence replay the same way.
    let state = 0x9e3779b9;
    this.#restoreRandom = Math.random;
    Math.random = () => {
      state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return state / 2 ** 32;
    };
    getRegistry().clear();
    const { logger, records } = memoryLogger();
    this.records = records;
    this.pool.restartLaterSeconds = spec.restartLaterSeconds;
    this.sqs.latencyMs = spec.latencyMs;
    this.targets = spec.queues.map((queue, index) => {
      const name = `q${index}${queue.fifo ? ".fifo" : ""}`;
      const registered = receiver(
        name,
        { weight: queue.weight, ...(queue.concurrency === undefined ? {} : { concurrency: queue.concurrency }) },
        async () => {},
      ).queue;
      return {
        queue: registered,
        suffix: undefined,
        fullName: name,
        url: `https://sqs.model/${name}`,
        visibilityTimeoutSeconds: spec.visibilityTimeoutSeconds,
      };
    });
    const config = resolveConfig(
      {
        receivers: ["./receivers.ts"],
        pool: {
          threads: spec.maxInFlight,
          tasksPerThread: 1,
          maxInFlight: spec.maxInFlight,
          prefetch: spec.prefetch,
          maxBuffered: spec.maxBuffered,
        },
        defaults: {
          waitTimeSeconds: spec.waitTimeSeconds,
          visibilityTimeoutSeconds: spec.visibilityTimeoutSeconds,
          ...(spec.idleBackoff ? { idleBackoff: { initialMs: 5_000, maxMs: 20_000 } } : {}),
        },
        drainTimeoutMs: spec.drainTimeoutMs,
      },
      { configPath: "/model/sqs.config.ts", env: {}, cores: 2, isTTY: false },
    );
    this.supervisor = new Supervisor({
      config,
      targets: this.targets,
      sqs: this.sqs,
      pool: this.pool.asHandlerPool(),
      logger,
    });
  }

  /** Starts the supervisor and lets its first receives go out. */
  async start(): Promise<void> {
    this.supervisor.start();
    await settle();
  }

  /** Applies one step, then lets every promise job it started run. */
  async apply(step: ModelStep): Promise<void> {
    this.lastStep = step;
    const target = "queue" in step ? this.targets[step.queue % this.targets.length]! : undefined;
    switch (step.kind) {
      case "send": {
        const fifo = target!.queue.fifo;
        this.sqs.send(
          target!.url,
          step.groups.map((group) => (fifo ? `g${group}` : "")),
        );
        break;
      }
      case "short":
        this.sqs.shortenNextReceive(target!.url, step.count);
        break;
      case "advance":
        await this.timers.advance(step.ms);
        break;
      case "end":
      case "hang": {
        const runs = this.pool.endable();
        const run = runs[step.pick % Math.max(1, runs.length)];
        if (run && step.kind === "end") {
          if (step.ending === "crash") this.crashedAt.set(run.queue, this.timers.now());
          run.end(step.ending);
        } else if (run) run.hung = true;
        break;
      }
      case "pause":
        this.supervisor.pause();
        break;
      case "resume":
        this.supervisor.resume();
        break;
      case "pauseQueue":
        this.supervisor.pauseQueue(target!.fullName);
        break;
      case "resumeQueue":
        this.supervisor.resumeQueue(target!.fullName);
        break;
      case "wake":
        this.supervisor.wake();
        for (const entry of this.targets) this.wokenAt.set(entry.url, this.sqs.receiveCalls(entry.url));
        break;
      case "fault": {
        const { fault } = step;
        if (fault.action === "ack" || fault.action === "outage") this.ackFaults += 1;

        this.sqs.inject(
          fault.action === "receive"
            ? { ...fault, queueUrl: this.targets[fault.queue % this.targets.length]!.url }
            : fault,
        );
        break;
      }
      case "drain":
        this.#drain();
        break;
    }
    await settle();
  }

  #drain(): void {
    if (this.drainAsked) return;
    this.drainAsked = true;
    void this.supervisor.drain("model drain").then((report) => (this.report = report));
  }

  /**
   * Drains (if no step did), then lets the drain end: runs still going end (hung ones too, unless the drain
   * interrupts them), and time moves on for long polls to return and acks to flush. Real time passes too,
   * for the drain's `AbortSignal.timeout`. Throws if the drain has not ended within ten minutes of fake time.
   */
  async finish(): Promise<StopReport> {
    this.#drain();
    const interrupts = this.spec.drainTimeoutMs < 1_000;
    const startedAt = this.timers.now();
    const timed = !interrupts || [...this.pool.active].every((run) => !run.hung);
    for (let waitedMs = 0; !this.report; waitedMs += 250) {
      if (waitedMs > FINISH_LIMIT_MS) throw new Error("the drain did not end within 10 minutes of fake time");
      for (const run of [...this.pool.active]) if (!run.hung || !interrupts) run.end("ok");
      await this.timers.advance(250);
      // Only hung runs wait for the drain timeout, which counts real time.
      if (interrupts && this.pool.active.size > 0) await realDelay(2);
    }
    if (timed) this.drainMs = this.timers.now() - startedAt;
    return this.report;
  }

  readonly #restoreRandom: () => number;

  /** Puts the real timers and Math.random back and clears the registry. */
  dispose(): void {
    Math.random = this.#restoreRandom;
    this.timers.uninstall();
    getRegistry().clear();
  }
}
