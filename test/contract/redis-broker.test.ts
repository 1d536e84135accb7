import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { RedisBroker } from '../../src/broker/index.js';
import { runBrokerContract } from './broker.contract.js';

const url = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function reachable(): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
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

if (await reachable()) {
  // A prefix per broker keeps concurrent test files apart on the shared Redis; brokers that
  // share one act as processes of one deployment.
  const prefixes = new WeakMap<object, string>();
  runBrokerContract('redis', async (o = {}) => {
    const prefix = (o.shareWith && prefixes.get(o.shareWith)) ?? `test:${Math.random().toString(36).slice(2)}:`;
    const broker = new RedisBroker({ url, prefix, ...(o.presenceTtlMs !== undefined ? { presenceTtlMs: o.presenceTtlMs } : {}) });
    prefixes.set(broker, prefix);
    return broker;
  });
} else if (process.env.PARLEY_REQUIRE_REDIS === '1') {
  describe('broker contract: redis', () => {
    it(`Redis must be reachable at ${url}`, () => {
      throw new Error(`Redis not reachable at ${url}`);
    });
  });
} else {
  console.warn(`[skipped] broker contract: redis — Redis not reachable at ${url}; PARLEY_REQUIRE_REDIS=1 makes this a failure`);
  describe.skip(`broker contract: redis — Redis not reachable at ${url}, skipped`, () => {
    it('skipped', () => {});
  });
}
