/**
 * A real {@link Scheduler} over a few named queues, driven by hand the way pollers and the dispatcher drive it:
 * receives admit messages, started deliveries wait in a list until a test finishes them, and a poller's hold is
 * a wait for room. Shared by the wake tests (test/unit/scheduler-wakes.test.ts) and their property
 * (test/unit/room-watch-model.test.ts).
 */
import type { Message } from "@aws-sdk/client-sqs";
import { receiver } from "../../src/registry/receiver.js";
import { getRegistry } from "../../src/registry/registry.js";
import type { Acker } from "../../src/supervisor/acker.js";
import type { Delivery } from "../../src/supervisor/delivery.js";
import { Scheduler, type SchedulerOptions } from "../../src/supervisor/scheduler.js";
import type { PollTarget } from "../../src/supervisor/target.js";
import { VisibilityKeeper } from "../../src/supervisor/visibility-keeper.js";
import { memoryLogger } from "./memory-logger.js";

/** The scheduler limits a harness may set; the rest default to one slot, a prefetch of 10 and 100 buffered. */
export type HarnessLimits = Partial<
  Pick<SchedulerOptions, "maxInFlight" | "prefetch" | "maxBuffered" | "messageLimit">
>;

/** A primary lane's wait for room, as a held poller waits; `woken` turns true when the wait ends unaborted. */
export interface HeldPoller {
  readonly need: number;
  readonly woken: boolean;
}

/** What {@link schedulerHarness} gives a test. */
export interface SchedulerHarness {
  readonly scheduler: Scheduler;
  /** The queue's room (its counts and waits), by index into the names. */
  readonly room: (index: number) => ReturnType<Scheduler["room"]>;
  /** Admits messages to a queue as one receive of `asked` (by default, as many as came) would. */
  readonly receive: (index: number, ids: readonly string[], asked?: number) => void;
  /** Ends the oldest running delivery: counted (its handler ran), or given back uncounted. */
  readonly finishNext: (counted?: boolean) => void;
  /** Starts a primary lane's wait for room for a receive of `need`, from the room's current generation. */
  readonly hold: (index: number, need: number) => HeldPoller;
  /** Aborts the waits, drains the scheduler and finishes every delivery, so nothing is left pending. */
  readonly dispose: () => void;
}

/** A scheduler over `names` (the registry cleared first), whose started deliveries run until finished. */
export function schedulerHarness(names: readonly string[], limits: HarnessLimits = {}): SchedulerHarness {
  getRegistry().clear();
  const running: Delivery[] = [];
  const acker = { changeVisibility: async () => true } as unknown as Acker;
  const targets: PollTarget[] = names.map((name) => ({
    queue: receiver(name, {}, async () => {}).queue,
    suffix: undefined,
    fullName: name,
    url: `https://sqs/${name}`,
    visibilityTimeoutSeconds: 30,
  }));
  const scheduler = new Scheduler(targets, {
    maxInFlight: 1,
    prefetch: 10,
    maxBuffered: 100,
    ...limits,
    keeper: new VisibilityKeeper(acker, memoryLogger().logger),
    start: (deliveries) => running.push(...deliveries),
    release: () => undefined,
  });
  const stop = new AbortController();
  const room = (index: number) => scheduler.room(targets[index]!);
  const finishNext = (counted = true): void => void running.shift()?.finish({ counted, succeeded: counted });
  return {
    scheduler,
    room,
    receive: (index, ids, asked = ids.length) => {
      room(index).beginReceive(asked, true);
      room(index).endReceive(
        asked,
        true,
        ids.map((id): Message => ({ MessageId: id, ReceiptHandle: `r-${id}`, Body: id, Attributes: {} })),
      );
    },
    finishNext,
    hold: (index, need) => {
      const generation = room(index).generation;
      const state = { need, woken: false };
      void room(index)
        .roomChanged(generation, need, true, stop.signal)
        .then(() => (state.woken = !stop.signal.aborted));
      return state;
    },
    dispose: () => {
      stop.abort();
      if (scheduler.stopped) scheduler.resume();
      scheduler.beginDrain();
      scheduler.releaseAll();
      while (running.length > 0) finishNext();
    },
  };
}

/** Lets every resolved wait run its continuation: each wake resolves within one turn of the event loop. */
export const settle = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
