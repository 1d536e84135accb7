import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type SendRateLimiter, createRateLimiter, createSendRateLimiter } from './send-rate-limiter.js';

const redisUrl = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function reachable(): Promise<boolean> {
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const redisUp = await reachable();
if (!redisUp) console.warn(`[skipped] send rate limiter with Redis — Redis not reachable at ${redisUrl}`);
const opened: SendRateLimiter[] = [];
const open = (o: Parameters<typeof createSendRateLimiter>[0]): SendRateLimiter => {
  const l = createSendRateLimiter(o);
  opened.push(l);
  return l;
};
const openNamed = (o: Parameters<typeof createRateLimiter>[0]): SendRateLimiter => {
  const l = createRateLimiter(o);
  opened.push(l);
  return l;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((l) => l.close()));
});

describe('send rate limiter', () => {
  it('in memory: allows `messages` per window per key, then says how long to wait', async () => {
    const l = open({ messages: 2, perSeconds: 60, redisUrl: null });
    expect(await l.consume('1')).toEqual({ ok: true });
    expect(await l.consume('1')).toEqual({ ok: true });
    const third = await l.consume('1');
    expect(third.ok).toBe(false);
    if (!third.ok) expect(third.retryAfterMs).toBeGreaterThan(58_000);
    // Another key has its own budget.
    expect(await l.consume('2')).toEqual({ ok: true });
  });

  it.skipIf(!redisUp)('with Redis: processes share one budget per user', async () => {
    const url = `${redisUrl}?prefix=test-limits-${Math.random().toString(36).slice(2)}:`;
    const a = open({ messages: 3, perSeconds: 60, redisUrl: url });
    const b = open({ messages: 3, perSeconds: 60, redisUrl: url });
    await Promise.all([a.ready(), b.ready()]);
    expect(await a.consume('7')).toEqual({ ok: true });
    expect(await b.consume('7')).toEqual({ ok: true });
    expect(await a.consume('7')).toEqual({ ok: true });
    expect((await b.consume('7')).ok).toBe(false);
    expect((await a.consume('7')).ok).toBe(false);
    expect(await b.consume('8')).toEqual({ ok: true });
  });

  it.skipIf(!redisUp)('with Redis: limiters of different actions keep separate budgets', async () => {
    const url = `${redisUrl}?prefix=test-limits-${Math.random().toString(36).slice(2)}:`;
    const sends = open({ messages: 1, perSeconds: 60, redisUrl: url });
    const uploads = openNamed({ points: 1, perSeconds: 60, name: 'upload', redisUrl: url });
    await Promise.all([sends.ready(), uploads.ready()]);
    expect(await sends.consume('7')).toEqual({ ok: true });
    expect(await uploads.consume('7')).toEqual({ ok: true });
    expect((await uploads.consume('7')).ok).toBe(false);
    expect((await sends.consume('7')).ok).toBe(false);
  });

  it('with Redis unreachable: counts in memory instead of blocking sends', async () => {
    const errors: unknown[] = [];
    const l = open({ messages: 2, perSeconds: 60, redisUrl: 'redis://127.0.0.1:1', onStoreError: (e) => errors.push(e) });
    await l.ready(200);
    expect(await l.consume('1')).toEqual({ ok: true });
    expect(await l.consume('1')).toEqual({ ok: true });
    expect((await l.consume('1')).ok).toBe(false);
  });
});
