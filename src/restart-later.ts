/** `code` carried by every {@link RestartLater}; the worker classifies thrown values by it. */
export const RESTART_LATER_CODE = "SQSD_RESTART_LATER";

/** Options for {@link RestartLater}. */
export interface RestartLaterOptions {
  /**
   * Seconds until the message is visible again (0..43200). Left out, the message reappears when its
   * current visibility timeout runs out, and no request is made.
   * @defaultValue undefined
   */
  readonly delaySeconds?: number;
  /** A short reason, logged at info level with the message id. */
  readonly reason?: string;
}

/**
 * Throw this from a handler to leave the message in its queue without it counting as a failure:
 * it is logged at info level without a stack trace and redelivered later. This is django-sqs's
 * `RestartLater`, plus the delay its FIXME asked for.
 *
 * @example
 * ```ts
 * receiver("invoices", async (message) => {
 *   if (!(await ledger.isOpen())) throw new RestartLater({ delaySeconds: 30, reason: "ledger closed" });
 *   await ledger.post(message.body);
 * });
 * ```
 */
export class RestartLater extends Error {
  override readonly name = "RestartLater";
  /** Classifies the error across module copies and threads, where `instanceof` cannot. */
  readonly code = RESTART_LATER_CODE;
  readonly delaySeconds: number | undefined;
  constructor(options: RestartLaterOptions = {}) {
    super(options.reason ?? "restart later");
    this.delaySeconds = options.delaySeconds;
  }
}

/** True for a {@link RestartLater} from any copy of sqsd, by its `code`. */
export function isRestartLater(error: unknown): error is RestartLater {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === RESTART_LATER_CODE;
}
