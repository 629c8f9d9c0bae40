import { EventEmitter } from "node:events";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ResolvedBackoff } from "../config/types.js";
import type { ResolvedSchedule } from "../config/schedules.js";
import { errorSummary } from "../errors.js";
import type { Logger } from "../logging.js";
import type { RegisteredQueue } from "../registry/types.js";
import { parseCron, type CronClock } from "../util/cron.js";
import { Forwarder } from "./forwarder.js";
import { LastTicks } from "./last-ticks.js";
import { OFFER_DEADLINE_MS, offerTick, type TickOfferOptions } from "./offer.js";
import { sendScheduleMessage } from "./schedule-message.js";
import { ScheduleTally } from "./tally.js";
import { Ticker } from "./ticker.js";

/**
 * The longest stop() waits for the receive, forwards and offers under way: a hung SQS request or body function
 * must not hold the daemon's exit. Above the 20 s long poll a `drainPolls: "wait"` stop waits out.
 */
const STOP_TIMEOUT_MS = 30_000;
/** Next run times each schedule shows on the status page. */
const NEXT_TICKS_SHOWN = 3;

/** What the schedules report as they work, for metrics. */
export interface ScheduleEvents {
  /** This replica offered a tick to the schedules queue (every replica offers every tick). */
  offered: [schedule: string, tick: Date];
  /** This replica sent the schedule's message for a tick to its queue. */
  forwarded: [schedule: string, tick: Date];
  /** A forward failed; the tick is retried after the schedules queue's visibility timeout. */
  forwardFailed: [schedule: string];
}

/** One schedule as /status.json shows it. */
export interface ScheduleStatus {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  /** The full name of the queue it sends to. */
  readonly queue: string;
  readonly catchUp: ResolvedSchedule["catchUp"];
  /** The next run times, ISO 8601 in UTC. */
  readonly nextTicks: readonly string[];
  /** The last tick this replica saw come due and offered, or null. */
  readonly lastTick: string | null;
  /** The last tick this replica forwarded to the queue, or null (another replica may have). */
  readonly lastForwardedTick: string | null;
  readonly offered: number;
  readonly forwarded: number;
  readonly forwardErrors: number;
}

/** What the schedule runner needs; the run command builds it. */
export interface ScheduleRunnerOptions {
  readonly schedules: readonly ResolvedSchedule[];
  /** Each schedule's queue, by schedule name (from `checkSchedules`). */
  readonly queues: ReadonlyMap<string, RegisteredQueue>;
  /** For offers, deletes and tags. */
  readonly client: SQSClient;
  /** For the long poll on the schedules queue. */
  readonly receiveClient: SQSClient;
  /** The schedules queue's URL. */
  readonly queueUrl: string;
  readonly waitTimeSeconds: number;
  readonly errorBackoff: ResolvedBackoff;
  /** `abort` ends the long poll at stop, as the daemon's `drainPolls` does for its queues. */
  readonly drainPolls: "wait" | "abort";
  readonly logger: Logger;
  /** The wall clock, in epoch ms. @defaultValue `Date.now` */
  readonly now?: () => number;
}

/**
 * Every replica runs every schedule: at each tick it offers `{ schedule, tick }` to the FIFO schedules queue
 * with the deduplication id `schedule@tick`, SQS keeps one, and whichever daemon receives it sends the
 * schedule's message to its queue. See docs/schedules.md.
 *
 * Lifecycle: {@link ScheduleRunner.start} once (the catch-up, then the ticker and the forwarder);
 * {@link ScheduleRunner.stop} (memoized) at drain: no tick after it is called, the long poll returns (or is
 * aborted), forwards and offers under way finish.
 */
export class ScheduleRunner {
  readonly events = new EventEmitter<ScheduleEvents>();
  readonly #options: ScheduleRunnerOptions;
  readonly #now: () => number;
  readonly #clocks: ReadonlyMap<string, CronClock>;
  readonly #byName: ReadonlyMap<string, ResolvedSchedule>;
  readonly #tally: ScheduleTally;
  readonly #ticker: Ticker;
  readonly #forwarder: Forwarder;
  readonly #lastTicks: LastTicks;
  readonly #abort = new AbortController();
  readonly #offerOptions: TickOfferOptions;
  /** Offers and tag writes under way, which stop() waits for. */
  readonly #pending = new Set<Promise<void>>();
  #started: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: ScheduleRunnerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#byName = new Map(options.schedules.map((schedule) => [schedule.name, schedule]));
    this.#clocks = new Map(options.schedules.map((item) => [item.name, parseCron(item.cron, item.timezone)]));
    this.#tally = new ScheduleTally(this.#byName.keys());
    this.#ticker = new Ticker({
      schedules: [...this.#clocks].map(([name, clock]) => ({ name, clock })),
      onTick: (name, tick) => this.#track(this.#offer(name, tick)),
      // A timer that fires after a long pause (a suspended VM) must not offer a tick SQS no longer deduplicates.
      lateLimitMs: OFFER_DEADLINE_MS,
      onDropped: (name, oldest, newest) =>
        options.logger.warn("schedule ticks came due too long ago to offer safely; dropping them", {
          schedule: name,
          oldestTick: oldest.toISOString(),
          newestTick: newest.toISOString(),
          lateMs: this.#now() - newest.getTime(),
        }),
      now: this.#now,
    });
    this.#forwarder = new Forwarder({
      receiveClient: options.receiveClient,
      client: options.client,
      queueUrl: options.queueUrl,
      waitTimeSeconds: options.waitTimeSeconds,
      errorBackoff: options.errorBackoff,
      knows: (name) => this.#byName.has(name),
      forward: (name, tick, signal) => this.#forward(name, tick, signal),
      onDropped: (name) => {
        this.#tally.forwardFailed(name);
        this.events.emit("forwardFailed", name);
      },
      logger: options.logger,
      now: this.#now,
    });
    this.#lastTicks = new LastTicks(options.client, options.queueUrl);
    this.#offerOptions = {
      client: options.client,
      queueUrl: options.queueUrl,
      logger: options.logger,
      now: this.#now,
      signal: this.#abort.signal,
    };
  }

  /** Catches up (`catchUp: "latest"`), then starts the ticker and the forwarder. Idempotent. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      const fromMs = this.#now();
      await this.#catchUp(new Date(fromMs));
      if (this.#abort.signal.aborted) return;
      this.#ticker.start(fromMs);
      this.#forwarder.start();
      this.#options.logger.info("schedules started", {
        schedules: this.#options.schedules.map((schedule) => schedule.name),
      });
    })();
    return this.#started;
  }

  /** Stops ticking and forwarding; resolves when nothing of the schedules is under way. Memoized. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#ticker.stop();
      // Offers stop retrying; the request under way ends.
      this.#abort.abort();
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS);
        timer.unref();
      });
      const drained = (async () => {
        await this.#started?.catch(() => undefined);
        // Offers first: a tick offered during stop is on the queue before the forwarder lets go, so the next
        // start-up's catch-up finds it (or its record) rather than offering it again after the dedup window.
        await Promise.allSettled([...this.#pending]);
        await this.#forwarder.stop(this.#options.drainPolls === "abort");
        await Promise.allSettled([...this.#pending]);
      })();
      const result = await Promise.race([drained, giveUp]);
      clearTimeout(timer);
      if (result === "timeout") {
        this.#options.logger.warn("schedules did not stop in time; leaving their work under way", {
          timeoutMs: STOP_TIMEOUT_MS,
        });
      }
    })();
    return this.#stopped;
  }

  /** Each schedule's next ticks, last tick and counts. */
  status(): ScheduleStatus[] {
    const after = new Date(this.#now());
    return this.#options.schedules.map((schedule) => {
      const counts = this.#tally.of(schedule.name);
      const queue = this.#options.queues.get(schedule.name);
      return {
        name: schedule.name,
        cron: schedule.cron,
        timezone: schedule.timezone,
        queue: queue ? queue.fullNameFor(schedule.suffix) : schedule.queue,
        catchUp: schedule.catchUp,
        nextTicks: this.#clockOf(schedule.name)
          .next(NEXT_TICKS_SHOWN, after)
          .map((tick) => tick.toISOString()),
        lastTick: counts.lastTick?.toISOString() ?? null,
        lastForwardedTick: counts.lastForwarded?.toISOString() ?? null,
        offered: counts.offered,
        forwarded: counts.forwarded,
        forwardErrors: counts.forwardErrors,
      };
    });
  }

  /**
   * For `catchUp: "latest"`: the most recent tick at or before now fires once, unless the schedules queue
   * records it (or a later one) as forwarded. Replicas starting together all offer it, and SQS keeps one.
   */
  async #catchUp(now: Date): Promise<void> {
    const schedules = this.#options.schedules.filter((schedule) => schedule.catchUp === "latest");
    if (schedules.length === 0) return;
    let recorded: Map<string, Date>;
    try {
      recorded = await this.#lastTicks.read();
    } catch (error) {
      // Without the record a catch-up could repeat a tick that fired long ago: skip it, and say so.
      this.#options.logger.error("cannot read the last forwarded ticks; no tick is caught up", {
        error: errorSummary(error),
      });
      return;
    }
    for (const schedule of schedules) {
      const latest = this.#clockOf(schedule.name).latestAtOrBefore(now);
      const last = recorded.get(schedule.name);
      if (!latest || (last && last.getTime() >= latest.getTime())) continue;
      this.#options.logger.info("catching up the latest missed tick", {
        schedule: schedule.name,
        tick: latest.toISOString(),
        lastForwardedTick: last?.toISOString() ?? null,
      });
      this.#ticker.markHandedOut(schedule.name, latest);
      this.#track(this.#offer(schedule.name, latest));
    }
  }

  /** Offers one tick to the schedules queue (see offerTick), and counts it once SQS took it. */
  async #offer(name: string, tick: Date): Promise<void> {
    this.#tally.due(name, tick);
    if (await offerTick(this.#offerOptions, name, tick)) {
      this.#tally.offered(name);
      this.events.emit("offered", name, tick);
    }
  }

  /**
   * Sends a schedule's message for one tick to its queue (see sendScheduleMessage), counts the forward, and
   * records the tick for `catchUp: "latest"`; throws when the message could not be sent.
   */
  async #forward(name: string, tick: Date, signal: AbortSignal): Promise<void> {
    const schedule = this.#byName.get(name);
    const queue = this.#options.queues.get(name);
    if (!schedule || !queue) throw new Error(`schedule "${name}" has no queue`);
    try {
      await sendScheduleMessage(schedule, queue, tick, signal);
    } catch (error) {
      this.#tally.forwardFailed(name);
      this.events.emit("forwardFailed", name);
      throw error;
    }
    const newest = this.#tally.forwarded(name, tick);
    this.events.emit("forwarded", name, tick);
    if (schedule.catchUp === "latest" && newest) {
      // Awaited before the tick message is deleted, so a restart never finds the tick gone but not recorded,
      // and records of one schedule are written one after another (never a later tick overwritten by an earlier).
      await this.#lastTicks.record(name, tick, signal).catch((error: unknown) => {
        this.#options.logger.warn("could not record the last forwarded tick; a restart may fire it again", {
          schedule: name,
          tick: tick.toISOString(),
          error: errorSummary(error),
        });
      });
    }
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    const done = (): void => void this.#pending.delete(work);
    work.then(done, done);
  }

  #clockOf(name: string): CronClock {
    const clock = this.#clocks.get(name);
    if (!clock) throw new Error(`unknown schedule "${name}"`);
    return clock;
  }
}
