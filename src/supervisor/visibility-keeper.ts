import { SQS_LIMITS } from "../limits.js";
import type { Logger } from "../logging.js";
import type { Acker, AckTarget } from "./acker.js";

/**
 * When a running handler's visibility is extended, as a share of its visibility timeout: at half, there is a
 * whole half-timeout left for the extension to land before the message would reappear.
 */
const HEARTBEAT_FRACTION = 0.5;
/** Heartbeats never come closer together than this. */
const MIN_HEARTBEAT_MS = 250;

/** One message's visibility, kept alive while its handler runs. */
export interface KeptVisibility {
  /** When the message becomes visible again unless extended (epoch ms): its receipt handle is good until then. */
  readonly deadline: number;
  /** Sets the visibility timeout to `seconds` from now (capped at SQS's 12 hours from receipt). */
  extend(seconds: number): Promise<boolean>;
  /** Stops the heartbeat; call it the moment the handler ends. */
  stop(): void;
}

/**
 * The visibility heartbeat: while a handler runs past half its visibility timeout, the message's visibility
 * is extended by another timeout, again and again, so a long job is not delivered to a second consumer. The
 * extensions go through the acker, batched with ChangeMessageVisibilityBatch. SQS allows at most 12 hours
 * from receipt; the heartbeat stops there and says so.
 */
export class VisibilityKeeper {
  readonly #acker: Acker;
  readonly #logger: Logger;

  constructor(acker: Acker, logger: Logger) {
    this.#acker = acker;
    this.#logger = logger;
  }

  /**
   * Starts the heartbeat of a message received at `receivedAt` with this visibility timeout. `onLost` is
   * called once if the heartbeat can no longer keep the message hidden (an extension failed, or SQS's
   * 12-hour ceiling is reached), unless stopped first.
   */
  keep(
    ack: AckTarget,
    receivedAt: number,
    visibilityTimeoutSeconds: number,
    fields: Record<string, unknown>,
    onLost: () => void = () => undefined,
  ): KeptVisibility {
    const ceiling = receivedAt + SQS_LIMITS.maxVisibilityTimeoutSeconds * 1000;
    let periodSeconds = visibilityTimeoutSeconds;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let deadline = receivedAt + visibilityTimeoutSeconds * 1000;

    const schedule = (fromNow: number): void => {
      if (stopped || periodSeconds <= 0) return;
      timer = setTimeout(() => void beat(), Math.max(MIN_HEARTBEAT_MS, fromNow * HEARTBEAT_FRACTION * 1000));
    };
    let lost = false;
    const lose = (): void => {
      if (stopped || lost) return;
      lost = true;
      onLost();
    };
    const extendTo = async (seconds: number): Promise<boolean> => {
      const allowed = Math.floor((ceiling - Date.now()) / 1000);
      const granted = Math.min(seconds, allowed);
      if (granted < 1) {
        this.#logger.warn("visibility reached SQS's 12-hour ceiling; the message will reappear", fields);
        lose();
        return false;
      }
      const requestedAt = Date.now();
      const ok = await this.#acker.changeVisibility({ ...ack, validUntil: deadline }, granted);
      // Stopped meanwhile (the message is done, or given back): the answer no longer matters.
      if (stopped) return false;
      if (!ok) {
        this.#logger.warn("could not extend the visibility; the message may be redelivered", fields);
        lose();
        return false;
      }
      deadline = requestedAt + granted * 1000;
      this.#logger.debug("visibility extended", { ...fields, visibilityTimeoutSeconds: granted });
      if (granted < seconds) {
        // The last extension SQS allows: the message reappears at the ceiling.
        this.#logger.warn("visibility reached SQS's 12-hour ceiling; the message will reappear", fields);
        timer = setTimeout(lose, Math.max(0, deadline - Date.now()));
        return false;
      }
      return true;
    };
    const beat = async (): Promise<void> => {
      if (stopped) return;
      if (await extendTo(periodSeconds)) schedule(periodSeconds);
    };

    schedule(visibilityTimeoutSeconds);
    return {
      get deadline() {
        return deadline;
      },
      extend: async (seconds) => {
        clearTimeout(timer);
        // After a handler asks for more, the heartbeat keeps that much ahead, not less.
        periodSeconds = Math.max(periodSeconds, seconds);
        const ok = await extendTo(seconds);
        schedule(seconds);
        return ok;
      },
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }
}
