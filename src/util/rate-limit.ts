/**
 * Lets at most `limit` events through per fixed window of `windowMs`, and counts those it holds back, so that a
 * log line can say how many it stands for. Used to keep a flood (of refused requests, say) from flooding the log.
 */
export class RateLimit {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStartMs = Number.NEGATIVE_INFINITY;
  #passed = 0;
  #heldBack = 0;

  constructor(limit: number, windowMs: number, now: () => number = Date.now) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /**
   * Whether one more event may pass now. When it may, `heldBack` is how many were held back since the last one
   * that passed (they are reported once, with it).
   */
  take(): { readonly allowed: true; readonly heldBack: number } | { readonly allowed: false } {
    const now = this.#now();
    if (now - this.#windowStartMs >= this.#windowMs) {
      this.#windowStartMs = now;
      this.#passed = 0;
    }
    if (this.#passed >= this.#limit) {
      this.#heldBack += 1;
      return { allowed: false };
    }
    this.#passed += 1;
    const heldBack = this.#heldBack;
    this.#heldBack = 0;
    return { allowed: true, heldBack };
  }
}
