/**
 * The token accounting of one rate limit, as pure arithmetic over a time the caller passes in (no timers), so a
 * test drives it with any interleaving it likes.
 *
 * A receive **reserves** tokens before it is sent (at most what is available) and **settles** them when it
 * returns: the messages it brought spend their tokens, the rest come back. The bucket's level counts reserved
 * tokens as still in it, and refills only up to `burst` including them. So a long poll that holds five tokens
 * for 20 s does not let five more accrue meanwhile, and whatever mix of receives is out and comes back, the
 * messages received in any window of `w` seconds stay within `ratePerSecond × w + burst` (the level plus what
 * is reserved never exceeds `burst`, and each received message spends a token that was in it).
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  /** Tokens in the bucket, reserved ones included (≤ burst). */
  #level: number;
  /** Tokens held by receives under way. */
  #reserved = 0;
  #at: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#level = burst;
    this.#at = now;
  }

  /** Whole tokens a receive may reserve at `now`. */
  available(now: number): number {
    this.#refill(now);
    return Math.max(0, Math.floor(this.#level - this.#reserved + 1e-9));
  }

  /** Reserves up to `max` tokens at `now`; returns how many (0 when none is available). */
  reserve(max: number, now: number): number {
    const granted = Math.min(Math.max(0, Math.floor(max)), this.available(now));
    this.#reserved += granted;
    return granted;
  }

  /** A receive that reserved `reserved` tokens brought `received` messages: those spend their tokens. */
  settle(reserved: number, received: number, now: number): void {
    this.#refill(now);
    this.#reserved -= reserved;
    this.#level -= Math.min(received, reserved);
  }

  /** Tokens reserved by receives under way. */
  get reserved(): number {
    return this.#reserved;
  }

  /**
   * Milliseconds from `now` until a token is available: 0 when one is, `Infinity` while the receives under way
   * hold every token the bucket can have (one of them must return first).
   */
  msUntilToken(now: number): number {
    this.#refill(now);
    const missing = 1 - (this.#level - this.#reserved);
    if (missing <= 1e-9) return 0;
    if (this.#reserved + 1 > this.#burst + 1e-9) return Number.POSITIVE_INFINITY;
    return Math.ceil(missing / this.#ratePerMs);
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#level = Math.min(this.#burst, this.#level + (now - this.#at) * this.#ratePerMs);
      this.#at = now;
    }
  }
}
