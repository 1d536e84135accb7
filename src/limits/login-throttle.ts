import { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimited } from '../core/errors.js';

/** `loginThrottle`: failures per username, attempts per client address, each per window. */
export interface LoginThrottleOptions {
  perAccount: { failures: number; perSeconds: number };
  perAddress: { attempts: number; perSeconds: number };
  /** Counters in Redis (shared by every process), as the send limiter keeps them; null: memory. */
  redisUrl: string | null;
  onStoreError?: (err: unknown) => void;
}

/**
 * Sign-in throttling on `rate-limiter-flexible`. Every attempt from an address counts against
 * that address (each costs a password hash, so a burst is refused before it slows the server);
 * only failures count against a username (so its owner, signing in right, resets it), across
 * every address (so guessing one password from many addresses is slow too). Refusals are
 * `rate_limited` errors carrying the seconds to wait (HTTP 429 + `Retry-After`).
 */
export class LoginThrottle {
  private readonly redis: Redis | null;
  private readonly account: RateLimiterAbstract;
  private readonly address: RateLimiterAbstract;

  constructor(private readonly o: LoginThrottleOptions) {
    const memory = (points: number, duration: number, keyPrefix: string) => new RateLimiterMemory({ points, duration, keyPrefix });
    const limiter = (points: number, perSeconds: number, name: string, prefix: string): RateLimiterAbstract =>
      this.redis
        ? new RateLimiterRedis({
            storeClient: this.redis,
            points,
            duration: Math.max(1, Math.ceil(perSeconds)),
            keyPrefix: `${prefix}${name}`,
            rejectIfRedisNotReady: true,
            insuranceLimiter: memory(points, perSeconds, name),
          })
        : memory(points, perSeconds, name);
    let prefix = 'parley:';
    if (o.redisUrl) {
      const url = new URL(o.redisUrl);
      prefix = url.searchParams.get('prefix') ?? prefix;
      url.searchParams.delete('prefix');
      this.redis = new Redis(url.toString(), { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (times) => Math.min(50 * 2 ** times, 2000) });
      this.redis.on('error', (err) => o.onStoreError?.(err));
    } else {
      this.redis = null;
    }
    this.account = limiter(o.perAccount.failures, o.perAccount.perSeconds, 'login-fail', prefix);
    this.address = limiter(o.perAddress.attempts, o.perAddress.perSeconds, 'login-addr', prefix);
  }

  /** Before checking a password: counts the attempt for `address`; throws when either budget is spent. */
  async admit(username: string, address: string): Promise<void> {
    const key = accountKey(username);
    const spent = await this.account.get(key).catch((e: unknown) => {
      this.o.onStoreError?.(e);
      return null;
    });
    if (spent && spent.consumedPoints >= this.o.perAccount.failures) throw rateLimited(spent.msBeforeNext, 'signing in');
    const refused = await this.refusal(() => this.address.consume(address));
    if (refused) throw rateLimited(refused.msBeforeNext, 'signing in');
  }

  /** A wrong password (or unknown username): one failure against the username. */
  async failed(username: string): Promise<void> {
    await this.refusal(() => this.account.consume(accountKey(username)));
  }

  /** A right password: the username's failures are forgotten. */
  async succeeded(username: string): Promise<void> {
    await this.refusal(() => this.account.delete(accountKey(username)));
  }

  async close(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }

  /** The limiter's refusal, or null; a failing store never blocks sign-in (it is logged). */
  private async refusal(op: () => Promise<unknown>): Promise<RateLimiterRes | null> {
    try {
      await op();
      return null;
    } catch (e) {
      if (e instanceof RateLimiterRes) return e;
      this.o.onStoreError?.(e);
      return null;
    }
  }
}

const accountKey = (username: string): string => username.trim().toLowerCase();
