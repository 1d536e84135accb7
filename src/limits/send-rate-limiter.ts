import { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiter } from '../core/ports/rate-limiter.js';

/** How many messages one user may send in how many seconds (`sendRateLimit`). */
export interface SendRateLimit {
  messages: number;
  perSeconds: number;
}

export interface SendRateLimiterOptions extends SendRateLimit {
  /**
   * Keep the counters in this Redis (`redis://host:6379`, optional `?prefix=`), so the limit
   * holds across every process of a deployment. Null: in this process's memory.
   */
  redisUrl: string | null;
  /** Told when Redis fails; sends are then counted in memory until it is back. */
  onStoreError?: (err: unknown) => void;
}

/**
 * The send rate limiter, on `rate-limiter-flexible` (fixed window of `perSeconds` per user).
 * With Redis the window is rounded up to whole seconds (Redis expiries are in seconds), and
 * an in-memory limiter stands in while Redis is unreachable: a broken Redis never blocks sends.
 */
/** The limiter, plus a way to wait for its store. */
export interface SendRateLimiter extends RateLimiter {
  /**
   * Resolves once Redis is connected (at once without Redis), or after `timeoutMs` if it is
   * not: until then sends are counted in this process's memory.
   */
  ready(timeoutMs?: number): Promise<void>;
}

export function createSendRateLimiter(o: SendRateLimiterOptions): SendRateLimiter {
  const { messages, ...rest } = o;
  return createRateLimiter({ ...rest, points: messages, name: 'send' });
}

/** Options of a per-key fixed-window limiter (`createRateLimiter`). */
export interface RateLimiterOptions extends Omit<SendRateLimiterOptions, 'messages'> {
  /** Actions one key may take per window. */
  points: number;
  /**
   * What is counted (`send`, `upload`): keeps each limiter's counters apart in Redis
   * (`<prefix><name>-rate:<key>`), so limits on different actions never share a budget.
   */
  name: string;
}

/**
 * A limiter like the send limiter, for any action: the same window, Redis sharing and
 * in-memory stand-in. `uploadRateLimit` uses it with `name: 'upload'`.
 */
export function createRateLimiter(o: RateLimiterOptions): SendRateLimiter {
  const memory = (): RateLimiterMemory => new RateLimiterMemory({ points: o.points, duration: o.perSeconds, keyPrefix: o.name });
  let redis: Redis | null = null;
  let limiter: RateLimiterAbstract;
  if (o.redisUrl) {
    const { url, prefix } = splitPrefix(o.redisUrl);
    // Commands fail fast while Redis is away, so the insurance limiter answers instead of a send waiting.
    redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (times) => Math.min(50 * 2 ** times, 2000) });
    redis.on('error', (err) => o.onStoreError?.(err));
    limiter = new RateLimiterRedis({
      storeClient: redis,
      points: o.points,
      duration: Math.max(1, Math.ceil(o.perSeconds)),
      keyPrefix: `${prefix}${o.name}-rate`,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory(),
    });
  } else {
    limiter = memory();
  }
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return { ok: true };
      } catch (e) {
        if (e instanceof RateLimiterRes) return { ok: false, retryAfterMs: e.msBeforeNext };
        // The store failed and the insurance did too: let the send through rather than fail it.
        o.onStoreError?.(e);
        return { ok: true };
      }
    },
    async ready(timeoutMs = 2000) {
      const client = redis;
      if (!client || client.status === 'ready') return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          client.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        timer.unref();
        client.once('ready', done);
      });
    },
    async close() {
      await redis?.quit().catch(() => undefined);
    },
  };
}

/** `redis://host:6379?prefix=eu:` → the URL without the parameter, and the key prefix (default `parley:`). */
function splitPrefix(redisUrl: string): { url: string; prefix: string } {
  try {
    const url = new URL(redisUrl);
    const prefix = url.searchParams.get('prefix');
    url.searchParams.delete('prefix');
    return { url: url.toString(), prefix: prefix ?? 'parley:' };
  } catch {
    return { url: redisUrl, prefix: 'parley:' };
  }
}
