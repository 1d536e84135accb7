/** How long to wait between attempts: doubling from `initialMs` up to `maxMs`, with jitter. */
export interface BackoffOptions {
  /** The first delay's ceiling. Default 500 ms. */
  initialMs: number;
  /** No delay exceeds this. Default 30 s. */
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * Exponential backoff with "equal jitter": attempt n waits between half and all of
 * `min(maxMs, initialMs · 2ⁿ)`. The random half spreads out clients that lost the same server
 * at the same moment; the fixed half keeps a client from retrying in a hot loop.
 *
 * @example
 * const b = new Backoff({ initialMs: 500, maxMs: 30_000 });
 * setTimeout(retry, b.next()); // 250–500 ms, then 500–1000 ms, …
 * b.reset();                   // after a success
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions = defaultBackoff,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt, in ms; each call moves one attempt further. */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return ceiling / 2 + this.random() * (ceiling / 2);
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Starts over from `initialMs` (call it after a success). */
  reset(): void {
    this.attempt = 0;
  }
}
