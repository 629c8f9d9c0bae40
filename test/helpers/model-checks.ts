import { DRAIN_FLUSH_LIMIT_MS } from "../../src/supervisor/supervisor.js";
import type { ModelRun } from "./model-pool.js";
import type { ModelWorld } from "./model-world.js";

/** What a check found wrong, with the state that shows it. */
export class InvariantBroken extends Error {
  override readonly name = "InvariantBroken";
}

function fail(world: ModelWorld, invariant: string, detail: Record<string, unknown>): never {
  const health = world.supervisor.health();
  throw new InvariantBroken(
    `${invariant}: ${JSON.stringify(detail)}\n  after ${JSON.stringify(world.lastStep)}` +
      `\n  health ${JSON.stringify({ ...health, starved: undefined })}`,
  );
}

/** Longest a crash holds a queue back (the supervisor's crash backoff ceiling). */
const CRASH_HOLD_MS = 60_000;
/**
 * The listening invariant: a queue that may receive has a ReceiveMessage in flight once the step's promise
 * jobs have run. A queue may not receive while the daemon or the queue is paused, while it drains, while its
 * registered queue is at its `concurrency` cap, while its poller backs off from errors or a crash, and while buffered
 * messages wait for slots and either fill the queue's buffer or SQS had a backlog for it (its last receive came
 * back full: the poller then waits for room for a full batch). On a FIFO queue, buffered
 * messages that all sit behind a running message of their group do not count: SQS sends no more of those
 * groups meanwhile, so the queue must listen for others. With an idle backoff, an empty receive may
 * be followed by a pause, so the invariant holds only while a wake is unseen (no receive has begun since it):
 * a wake must end every pause, also one that an empty answer still on its way back would start.
 */
export function checkListening(world: ModelWorld): void {
  const { supervisor, spec } = world;
  const health = supervisor.health();
  if (health.state !== "running") return;
  const now = world.timers.now();
  const runningByName = new Map<string, number>();
  for (const load of health.queues) {
    const name = world.targets.find((target) => target.fullName === load.queue)!.queue.name;
    runningByName.set(name, (runningByName.get(name) ?? 0) + load.running);
  }
  for (const [index, target] of world.targets.entries()) {
    const poller = health.pollers.find((entry) => entry.queue === target.fullName)!;
    const load = health.queues.find((entry) => entry.queue === target.fullName)!;
    const cap = spec.queues[index]!.concurrency ?? Number.POSITIVE_INFINITY;
    const unseenWake = world.wokenAt.get(target.url) === world.sqs.receiveCalls(target.url);
    const exempt =
      (spec.idleBackoff && !unseenWake) ||
      supervisor.pausedQueues.has(target.fullName) ||
      (runningByName.get(target.queue.name) ?? 0) >= cap ||
      poller.consecutiveErrors > 0 ||
      now - (world.crashedAt.get(target.fullName) ?? Number.NEGATIVE_INFINITY) < CRASH_HOLD_MS ||
      (load.buffered > 0 &&
        !onlyBlocked(world, index) &&
        (load.buffered >= spec.prefetch || world.sqs.lastAnswerFull(target.url)));
    if (exempt) continue;
    // From the server's side: a long poll parked at the model SQS, or its answer on the way back.
    if (world.sqs.waitingOn(target.url) === 0) {
      fail(world, "a queue that may receive has no receive in flight", {
        queue: target.fullName,
        poller,
        load,
        waitingAtSqs: world.sqs.waitingOn(target.url),
      });
    }
  }
}

/**
 * Whether every message a FIFO queue may hold without running it belongs to a group with a message running,
 * so none of its buffered messages can start. Loose on purpose: the candidates are the messages SQS has in
 * flight that no run holds, which includes finished ones whose delete is still batched.
 */
function onlyBlocked(world: ModelWorld, index: number): boolean {
  const target = world.targets[index]!;
  if (!target.queue.fifo) return false;
  const runs = [...world.pool.active].filter((run) => run.queue === target.fullName);
  const running = new Set(runs.flatMap((run) => run.groups));
  const runningIds = new Set(runs.flatMap((run) => run.messageIds));
  const now = world.timers.now();
  return world.sqs.messages
    .filter((message) => message.queueUrl === target.url && world.sqs.inFlight(message, now))
    .filter((message) => !runningIds.has(message.id))
    .every((message) => running.has(message.groupId));
}

/** Buffered and running stay within `maxInFlight`, `concurrency`, `prefetch` and `maxBuffered`. */
export function checkBounds(world: ModelWorld): void {
  const { spec, supervisor, pool } = world;
  const health = supervisor.health();
  if (health.inFlight > spec.maxInFlight) fail(world, "more running than maxInFlight", { inFlight: health.inFlight });
  if (pool.maxActive > spec.maxInFlight) fail(world, "the pool ran more than maxInFlight", { max: pool.maxActive });
  // One message past maxBuffered per primary receive: one per queue, and one more per watchdog restart while
  // the receive it replaced still waits (a restart gives up on that receive on purpose). A resume keeps the
  // paused primary lane, so it adds none.
  const restarts = health.pollers.reduce((sum, poller) => sum + poller.restarts, 0);
  const primaries = spec.queues.length + restarts;
  if (health.buffered > spec.maxBuffered + primaries) {
    fail(world, "more buffered than maxBuffered plus one per primary receive", { buffered: health.buffered });
  }
  for (const [index, target] of world.targets.entries()) {
    const load = health.queues.find((entry) => entry.queue === target.fullName)!;
    const active = [...pool.active].filter((run) => run.queue === target.fullName).length;
    const cap = spec.queues[index]!.concurrency;
    if (cap !== undefined && active > cap) fail(world, "more running than concurrency", { queue: load.queue, active });
    if (!target.queue.fifo && load.buffered > Math.max(spec.prefetch, 1)) {
      fail(world, "a queue buffered more than prefetch", { queue: load.queue, buffered: load.buffered });
    }
  }
}

/**
 * No message runs twice at once. Only a heartbeat that could not extend the visibility may let SQS deliver a
 * running message again (at-least-once), and the model fails visibility changes only when a step injects an
 * ack fault: sequences with one are exempt.
 */
export function checkNoDoubleRun(world: ModelWorld): void {
  const seen = new Map<string, ModelRun>();
  for (const run of world.pool.active) {
    for (const id of run.messageIds) {
      const other = seen.get(id);
      if (other && world.ackFaults === 0)
        fail(world, "a message runs twice at once", { id, runs: [other.runId, run.runId] });
      seen.set(id, run);
    }
  }
}

/**
 * FIFO group order, checked on every run since the last check: no two runs of one group at once, and a
 * message starts only once every earlier message of its group has succeeded (been deleted, or had a run end
 * ok). Sequences with an injected ack fault are exempt: a heartbeat that failed lets SQS deliver a message
 * again behind later ones of its group.
 */
export function checkFifoOrder(world: ModelWorld, from: number): void {
  const runs = world.pool.runs.slice(from);
  for (const run of runs) {
    const target = world.targets.find((entry) => entry.fullName === run.queue)!;
    if (!target.queue.fifo) continue;
    for (const [index, id] of run.messageIds.entries()) {
      const group = run.groups[index]!;
      const message = world.sqs.messages.find((entry) => entry.id === id)!;
      const earlier = world.sqs.messages.filter(
        (entry) => entry.queueUrl === message.queueUrl && entry.groupId === group && entry.seq < message.seq,
      );
      if (world.ackFaults > 0) continue;
      const pending = earlier.filter((entry) => !entry.deleted && !succeeded(world, entry.id, run));
      if (pending.length > 0) {
        fail(world, "a FIFO message started before an earlier one of its group succeeded", {
          started: id,
          group,
          pending: pending.map((entry) => entry.id),
        });
      }
      const concurrent = [...world.pool.active].filter(
        (other) => other !== run && other.queue === run.queue && other.groups.includes(group),
      );
      if (concurrent.length > 0 && run.ended === undefined) {
        fail(world, "two runs of one FIFO group at once", { group, runs: concurrent.map((other) => other.runId) });
      }
    }
  }
}

function succeeded(world: ModelWorld, id: string, before: ModelRun): boolean {
  return world.pool.runs.some((run) => run.runId < before.runId && run.ended === "ok" && run.messageIds.includes(id));
}

/** No log line carries a message body (the model's bodies hold a marker). */
export function checkLogs(world: ModelWorld): void {
  const leak = world.records.find((record) => JSON.stringify(record).includes("BODY-"));
  if (leak) fail(world, "a log line carries a message body", { message: leak["message"] });
}

/**
 * After the drain: nothing held, nothing running, the pool closed; and once every visibility timeout could
 * have run out, no message is still hidden (nothing keeps extending it) and no timer is left but none.
 * Every message whose handler succeeded was deleted unless an ack fault was injected or its receipt lapsed,
 * and none was deleted without a successful run.
 */
export async function checkAfterDrain(world: ModelWorld): Promise<void> {
  const health = world.supervisor.health();
  if (health.inFlight !== 0 || health.buffered !== 0 || health.queues.some((q) => q.buffered + q.running > 0)) {
    fail(world, "the drain left messages held", {});
  }
  if (world.pool.active.size > 0) fail(world, "the drain left runs going", { runs: world.pool.active.size });
  if (!world.pool.closed) fail(world, "the drain did not close the pool", {});
  // The stated bound, outage or not: long polls under way return within their wait, then the final flush
  // gets DRAIN_FLUSH_LIMIT_MS (plus the finishing loop's 250 ms steps).
  const boundMs = world.spec.waitTimeSeconds * 1000 + 2 * world.spec.latencyMs + DRAIN_FLUSH_LIMIT_MS + 500;
  if (world.drainMs !== undefined && world.drainMs > boundMs) {
    fail(world, "the drain took longer than its bound", { drainMs: world.drainMs, boundMs, down: world.sqs.down });
  }
  const quietMs = Math.max(world.spec.visibilityTimeoutSeconds, world.spec.restartLaterSeconds) * 1000 + 60_000;
  await world.timers.advance(quietMs);
  const now = world.timers.now();
  const hidden = world.sqs.messages.filter((message) => world.sqs.inFlight(message, now));
  if (hidden.length > 0) fail(world, "a message stayed hidden after the drain", { ids: hidden.map((m) => m.id) });
  if (world.timers.live > 0) fail(world, "a timer outlived the drain", { timers: world.timers.live });
  for (const message of world.sqs.messages) {
    const ok = world.pool.runs.some((run) => run.ended === "ok" && run.messageIds.includes(message.id));
    if (message.deleted && !ok) fail(world, "a message was deleted without a successful run", { id: message.id });
    if (ok && !message.deleted && world.ackFaults === 0 && message.lapses === 0) {
      fail(world, "a message whose handler succeeded was not deleted", { id: message.id });
    }
  }
}
