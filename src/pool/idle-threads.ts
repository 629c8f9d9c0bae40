/**
 * Which pool threads above the pool's minimum have been idle long enough to end, and a piscina load balancer
 * that keeps tasks off a thread while it is being ended. piscina's own `idleTimeout` cannot be used: it
 * terminates a thread without running its teardown hooks, and sqsd promises them on every thread that ran a
 * setup hook. So sqsd ends idle threads itself: it stops giving the thread tasks (the balancer), checks that
 * it has none, has it run its teardown hooks, then terminates it; piscina then counts one thread less and
 * grows again when every remaining thread is full.
 */
import type { Piscina } from "piscina";

/** A thread as piscina's balancer and events show it (piscina does not export the type by name). */
export type PoolThread = Parameters<
  NonNullable<ConstructorParameters<typeof Piscina>[0]>["loadBalancer"] & {}
>[1][number];

/** piscina's balancer signature. */
type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>["loadBalancer"]>;

/** How idle threads are found and ended. */
export interface IdleThreadsOptions {
  /** Threads never ended for idleness. */
  readonly minThreads: number;
  /** Most threads the pool runs. */
  readonly maxThreads: number;
  /** Handlers one thread runs at once (piscina's concurrentTasksPerWorker). */
  readonly tasksPerThread: number;
  /** How long a thread above the minimum may hold no task before it is ended. */
  readonly idleMs: number;
  /** Runs the thread's teardown hooks and terminates it; resolves once it is gone or was left alone. */
  readonly retire: (threadId: number) => Promise<void>;
  /** Tasks piscina holds because no thread could take them: while there are any, no thread is retired. */
  readonly queuedTasks: () => number;
  /** Whether the thread has said on the pool's channel that it loaded the receivers (or that it cannot). */
  readonly reported: (threadId: number) => boolean;
}

/** Tracks piscina's threads, when each last held a task, and retires those idle past `idleMs`. */
export class IdleThreads {
  readonly #options: IdleThreadsOptions;
  readonly #threads = new Map<number, { readonly thread: PoolThread; lastBusy: number }>();
  readonly #retiring = new Set<number>();
  /** The threads piscina started with the pool and counts as ready before they have loaded, until they report. */
  readonly #early = new Set<number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: IdleThreadsOptions) {
    this.#options = options;
  }

  /**
   * Where piscina puts a task: a thread with no task if there is one; else, while the pool may grow, none
   * (piscina then starts a thread, and the task goes to whichever thread is free first); else the least busy
   * below `tasksPerThread`. Threads being retired get nothing. So tasks spread over threads as they did over a
   * pool that started them all, and a thread whose handler blocks its event loop is not given more while
   * another could start: piscina's own least-busy balancer would grow the pool only once every thread is full.
   * sqsd never posts abortable tasks.
   *
   * A thread still loading the receivers gets nothing either. When a task ends, piscina asks the balancer about
   * every thread, those still loading included, and a loading thread holds no task: picked, the queued task
   * would wait there for the whole load (seconds under load) while the thread that just finished sits idle.
   * Until piscina reports it ready (`workerCreate`, see {@link IdleThreads.added}) a thread only counts against
   * the maximum. piscina reports the threads it starts with the pool ready at once, before they load (see
   * {@link IdleThreads.startedEarly}): those wait for their own report on the pool's channel. One of them still
   * loading is a last resort, taken only at the maximum when no loaded thread has room: piscina offers a queued
   * task again when a thread starts or finishes a task, never when such a thread finishes loading, so a task
   * left in its queue could wait there for a long handler elsewhere.
   */
  readonly balancer: LoadBalancer = (_task, threads) => {
    let candidate: PoolThread | null = null;
    let fewest = this.#options.tasksPerThread;
    let loading: PoolThread | null = null;
    for (const thread of threads) {
      if (this.#retiring.has(thread.id) || !this.#threads.has(thread.id)) continue;
      if (!this.#loaded(thread.id)) {
        if (thread.currentUsage < (loading?.currentUsage ?? this.#options.tasksPerThread)) loading = thread;
        continue;
      }
      if (thread.currentUsage === 0) return this.#picked(thread);
      if (thread.currentUsage < fewest) {
        candidate = thread;
        fewest = thread.currentUsage;
      }
    }
    // piscina grows only while its own count, a thread being retired included, is below the maximum: past
    // that, a null would leave the task in its queue although a thread here has room.
    if (threads.length < this.#options.maxThreads) return null;
    const chosen = candidate ?? loading;
    return chosen && this.#picked(chosen);
  };

  /**
   * The threads piscina started in its constructor (`minThreads`): it marks them ready at once, and emits
   * `workerCreate` for them before they have loaded anything, so they take tasks only once they report.
   */
  startedEarly(threadIds: Iterable<number>): void {
    for (const threadId of threadIds) this.#early.add(threadId);
  }

  /** Whether the thread has loaded the receivers (or failed to, and refuses tasks itself). */
  #loaded(threadId: number): boolean {
    if (!this.#early.has(threadId)) return true;
    if (!this.#options.reported(threadId)) return false;
    this.#early.delete(threadId);
    return true;
  }

  /** A thread given a task is busy now, whether or not a sweep ever sees it so (its tasks may be short). */
  #picked(thread: PoolThread): PoolThread {
    const entry = this.#threads.get(thread.id);
    if (entry) entry.lastBusy = Date.now();
    return thread;
  }

  /** piscina's `workerCreate`: a thread that may take tasks. Starts the idle sweep once there is one to watch. */
  added(thread: PoolThread): void {
    this.#threads.set(thread.id, { thread, lastBusy: Date.now() });
    if (this.#timer === undefined && this.#options.idleMs > 0) {
      const sweepMs = Math.max(100, Math.min(5_000, this.#options.idleMs / 4));
      this.#timer = setInterval(() => this.#sweep(), sweepMs).unref();
    }
  }

  /**
   * piscina's `workerDestroy` (piscina has marked the thread destroyed; its id may read -1 by now, once it
   * exited). True if sqsd ended it for idleness: not a crash, and nothing to replace.
   */
  removed(): boolean {
    let retired = false;
    for (const [id, entry] of this.#threads) {
      if (!entry.thread.destroyed) continue;
      this.#threads.delete(id);
      this.#early.delete(id);
      retired ||= this.#retiring.delete(id);
    }
    return retired;
  }

  /** Whether piscina has reported the thread (`workerCreate`): it counts it as started. */
  knows(threadId: number): boolean {
    return this.#threads.has(threadId);
  }

  /** Stops sweeping (the pool is closing). */
  stop(): void {
    clearInterval(this.#timer);
  }

  #sweep(): void {
    const now = Date.now();
    let live = 0;
    for (const entry of this.#threads.values()) {
      if (entry.thread.id < 0 || entry.thread.destroyed || entry.thread.terminating) continue;
      if (!this.#retiring.has(entry.thread.id)) live += 1;
      if (entry.thread.currentUsage > 0) entry.lastBusy = now;
    }
    // One at a time: the pool shrinks by a thread per sweep at most, and never below its minimum; and not while
    // tasks wait for a thread.
    if (live <= this.#options.minThreads || this.#options.queuedTasks() > 0) return;
    const idle = [...this.#threads.values()].find(
      (entry) =>
        entry.thread.id > 0 &&
        !this.#retiring.has(entry.thread.id) &&
        entry.thread.currentUsage === 0 &&
        now - entry.lastBusy >= this.#options.idleMs,
    );
    if (!idle) return;
    const threadId = idle.thread.id;
    // From here the balancer gives it no task; one given before this line would show in currentUsage.
    this.#retiring.add(threadId);
    if (idle.thread.currentUsage > 0) {
      this.#retiring.delete(threadId);
      return;
    }
    void this.#options.retire(threadId).finally(() => {
      // Kept in #retiring until piscina has removed it (workerDestroy, which clears it), so that the removal is
      // not taken for a crash; a thread still here was left alone, and takes tasks again.
      if (this.#threads.has(threadId)) this.#retiring.delete(threadId);
    });
  }
}
