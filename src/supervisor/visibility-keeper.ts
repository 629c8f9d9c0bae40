import { SQS_LIMITS } from "../limits.js";
import type { Logger } from "../logging.js";
import { systemClock, type Clock, type ClockTimer } from "../util/clock.js";
import type { Acker, AckTarget } from "./acker.js";

/**
 * When a running handler's visibility is extended, as a share of the time left before its deadline: at half,
 * there is a whole half-timeout left for the extension to land before the message would reappear.
 */
const HEARTBEAT_FRACTION = 0.5;
/** Heartbeats never come closer together than this. */
const MIN_HEARTBEAT_MS = 250;

/** One message's visibility, kept alive while its handler runs. */
export interface KeptVisibility {
  /**
   * When the message becomes visible again unless extended (epoch ms): its receipt handle is good until then.
   * It only ever moves forward.
   */
  readonly deadline: number;
  /**
   * Keeps the message hidden at least `seconds` from now (capped at SQS's 12 hours from receipt). Sends
   * nothing when it is already hidden that long: SQS sets the timeout rather than adding to it, so a shorter
   * request would shorten it.
   */
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
  readonly #acker: Pick<Acker, "changeVisibility">;
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(acker: Pick<Acker, "changeVisibility">, logger: Logger, clock: Clock = systemClock) {
    this.#acker = acker;
    this.#logger = logger;
    this.#clock = clock;
  }

  /**
   * Starts the heartbeat of a message received at `receivedAt` with this visibility timeout. `onLost` is
   * called once if the heartbeat can no longer keep the message hidden (an extension failed, or SQS's
   * 12-hour ceiling is reached), unless stopped first. `fields` gives the message's log fields, asked for only
   * when a line is written (most heartbeats never write one).
   */
  keep(
    ack: AckTarget,
    receivedAt: number,
    visibilityTimeoutSeconds: number,
    fields: () => Record<string, unknown>,
    onLost: () => void = () => undefined,
  ): KeptVisibility {
    return new Heartbeat(
      { acker: this.#acker, logger: this.#logger, clock: this.#clock },
      { ack, receivedAt, visibilityTimeoutSeconds, fields, onLost },
    );
  }
}

interface HeartbeatServices {
  readonly acker: Pick<Acker, "changeVisibility">;
  readonly logger: Logger;
  readonly clock: Clock;
}

interface HeartbeatSubject {
  readonly ack: AckTarget;
  readonly receivedAt: number;
  readonly visibilityTimeoutSeconds: number;
  readonly fields: () => Record<string, unknown>;
  readonly onLost: () => void;
}

/**
 * One message's heartbeat. It owns exactly one timer at a time (the next beat, or, once the last extension SQS
 * allows has landed, the moment the message reappears), so a handler's `extend()` landing while a beat waits
 * on the acker cannot start a second chain. It has at most one change under way: SQS may apply two changes of
 * one receipt handle sent together in either order, so a short beat could land after a longer extension and
 * shorten it. And it never asks for less than is left, so its deadline only moves forward.
 */
class Heartbeat implements KeptVisibility {
  readonly #services: HeartbeatServices;
  readonly #subject: HeartbeatSubject;
  /** SQS's 12-hour limit from receipt (epoch ms). */
  readonly #ceiling: number;
  /** How far ahead each beat extends: the visibility timeout, or more once a handler asked for more. */
  #periodSeconds: number;
  #deadline: number;
  #timer: ClockTimer | undefined;
  /**
   * The change waiting on the acker, if any. There is never more than one: its answer re-arms the timer, and
   * a handler's extend() waits for it, so SQS sees this receipt handle's changes in the order they were made.
   */
  #inFlight: Promise<boolean> | undefined;
  /** The last extension SQS allows has been granted: no more beats, only the moment it runs out. */
  #atCeiling = false;
  #stopped = false;
  #lost = false;

  constructor(services: HeartbeatServices, subject: HeartbeatSubject) {
    this.#services = services;
    this.#subject = subject;
    this.#ceiling = subject.receivedAt + SQS_LIMITS.maxVisibilityTimeoutSeconds * 1000;
    this.#periodSeconds = subject.visibilityTimeoutSeconds;
    this.#deadline = subject.receivedAt + subject.visibilityTimeoutSeconds * 1000;
    this.#arm();
  }

  get deadline(): number {
    return this.#deadline;
  }

  async extend(seconds: number): Promise<boolean> {
    if (this.#stopped) return false;
    // After a handler asks for more, the heartbeat keeps that much ahead, not less.
    this.#periodSeconds = Math.max(this.#periodSeconds, seconds);
    // One change at a time: SQS applies two changes of one receipt handle sent together in either order.
    while (this.#inFlight) await this.#inFlight;
    if (this.#stopped || this.#lost) return false;
    // Already hidden that long: a change would only shorten it (SQS sets the timeout, it does not add to it).
    if (this.#services.clock.now() + seconds * 1000 <= this.#deadline) return true;
    const ok = await this.#send(seconds);
    this.#arm();
    return ok;
  }

  stop(): void {
    this.#stopped = true;
    this.#services.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Sets the one timer: the next beat at half of the time left before the deadline, or, at the ceiling, the
   * moment the message reappears. Replaces whatever timer was set before.
   */
  #arm(): void {
    const { clock } = this.#services;
    clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped || this.#lost || this.#periodSeconds <= 0) return;
    const left = this.#deadline - clock.now();
    if (this.#atCeiling) {
      this.#timer = clock.setTimeout(() => this.#lose(), Math.max(0, left));
      return;
    }
    this.#timer = clock.setTimeout(() => void this.#beat(), Math.max(MIN_HEARTBEAT_MS, left * HEARTBEAT_FRACTION));
  }

  async #beat(): Promise<void> {
    this.#timer = undefined;
    // A change under way re-arms the timer when it is answered.
    if (this.#stopped || this.#inFlight) return;
    await this.#send(this.#periodSeconds);
    this.#arm();
  }

  /** Sends one change, and holds it as the one under way until it is answered. */
  #send(seconds: number): Promise<boolean> {
    const change = this.#extendTo(seconds).finally(() => {
      this.#inFlight = undefined;
    });
    this.#inFlight = change;
    return change;
  }

  async #extendTo(seconds: number): Promise<boolean> {
    const { clock, acker, logger } = this.#services;
    const { fields } = this.#subject;
    const allowed = Math.floor((this.#ceiling - clock.now()) / 1000);
    const granted = Math.min(seconds, allowed);
    if (granted < 1) {
      logger.warn("visibility reached SQS's 12-hour ceiling; the message will reappear", fields());
      this.#lose();
      return false;
    }
    const requestedAt = clock.now();
    const ok = await acker.changeVisibility({ ...this.#subject.ack, validUntil: this.#deadline }, granted);
    // Stopped meanwhile (the message is done, or given back): the answer no longer matters.
    if (this.#stopped) return false;
    if (!ok) {
      logger.warn("could not extend the visibility; the message may be redelivered", fields());
      this.#lose();
      return false;
    }
    // SQS counts from when it served the request, which is no earlier than when it was sent. Changes go one
    // at a time and never ask for less than is left (except at the ceiling), so this only moves forward.
    this.#deadline = Math.max(this.#deadline, requestedAt + granted * 1000);
    if (logger.isLevelEnabled("debug"))
      logger.debug("visibility extended", { ...fields(), visibilityTimeoutSeconds: granted });
    if (granted < seconds) {
      // The last extension SQS allows: the message reappears at the ceiling.
      logger.warn("visibility reached SQS's 12-hour ceiling; the message will reappear", fields());
      this.#atCeiling = true;
      return false;
    }
    return true;
  }

  #lose(): void {
    if (this.#stopped || this.#lost) return;
    this.#lost = true;
    this.#services.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#subject.onLost();
  }
}
