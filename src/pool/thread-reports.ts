/**
 * What the pool threads reported on the pool's channel: which loaded the receiver modules, which ran their
 * teardown hooks, and whether one could not load them (the pool is then broken for good). The one owner of
 * those facts; whoever waits on them re-checks its condition after every report ({@link ThreadReports.until}).
 */
import { WorkerStartError } from "../pool-errors.js";
import type { Logger } from "../logging.js";
import { threadModules } from "./protocol.js";
import type { LifecycleMessage } from "./channel-messages.js";

/** The pool threads' reports, and waits on them. */
export class ThreadReports {
  readonly #logger: Logger;
  readonly #ready = new Set<number>();
  readonly #tornDown = new Set<number>();
  /** Re-checked after every report. */
  readonly #listeners = new Set<() => void>();
  #broken: WorkerStartError | undefined;
  readonly #brokenSignal: Promise<WorkerStartError>;
  #reportBroken!: (error: WorkerStartError) => void;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#brokenSignal = new Promise((resolve) => (this.#reportBroken = resolve));
  }

  /** How many threads have loaded the receiver modules (ended ones included). */
  get readyCount(): number {
    return this.#ready.size;
  }

  /** Whether thread `threadId` loaded the receiver modules. */
  isReady(threadId: number): boolean {
    return this.#ready.has(threadId);
  }

  /** Whether thread `threadId` has run its teardown hooks. */
  isTornDown(threadId: number): boolean {
    return this.#tornDown.has(threadId);
  }

  /** Why the pool is broken, once it is. */
  get broken(): WorkerStartError | undefined {
    return this.#broken;
  }

  /** Resolves with the first {@link ThreadReports.markBroken}; never resolves otherwise. */
  whenBroken(): Promise<WorkerStartError> {
    return this.#brokenSignal;
  }

  /** The pool cannot run handlers: logged once, and the first reason is kept. */
  markBroken(error: WorkerStartError, fields: Record<string, unknown> = {}): void {
    if (this.#broken) return;
    this.#broken = error;
    this.#logger.error(error.message, fields);
    this.#reportBroken(error);
    this.#notify();
  }

  /**
   * Resolves true once `condition` holds (checked now and after every report), or false when `timeoutMs`
   * passes first.
   */
  until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (met: boolean): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(met);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const listener = (): void => {
        if (condition()) done(true);
      };
      this.#listeners.add(listener);
    });
  }

  /** The channel's lifecycle messages. */
  heard(message: LifecycleMessage): void {
    switch (message.type) {
      case "ready":
        this.#ready.add(message.threadId);
        break;
      case "broken":
        this.markBroken(
          new WorkerStartError(
            `a pool thread could not load ${threadModules(message.error)}: ${message.error.name}: ${message.error.message}`,
          ),
          { threadId: message.threadId, stack: message.error.stack },
        );
        break;
      case "tornDown":
        this.#tornDown.add(message.threadId);
        for (const error of message.errors) {
          this.#logger.warn("a teardown hook failed", {
            threadId: message.threadId,
            error: `${error.name}: ${error.message}`,
          });
        }
        break;
      case "teardown":
      case "abort":
      case "admitted":
        break;
    }
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
