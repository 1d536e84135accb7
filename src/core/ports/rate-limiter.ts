/**
 * The rate-limiting port. The core asks it before every send; where the counters live (process
 * memory, Redis shared by every process) is the adapter's business (`src/limits/`).
 */
export interface RateLimiter {
  /**
   * Counts one action for `key`. Resolves `{ ok: true }` while the key is within its budget,
   * else `{ ok: false, retryAfterMs }`: how long until the next action would be allowed.
   * Never throws for "limited"; an adapter whose backend fails lets the action through rather
   * than stopping every send.
   */
  consume(key: string): Promise<{ ok: true } | { ok: false; retryAfterMs: number }>;
  /** Releases the adapter's resources (connections). */
  close(): Promise<void>;
}
