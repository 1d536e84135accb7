import type { Broker } from '../core/ports/broker.js';
import { MemoryBroker } from './memory/memory-broker.js';
import { RedisBroker } from './redis/redis-broker.js';

export { MemoryBroker } from './memory/memory-broker.js';
export { RedisBroker } from './redis/redis-broker.js';

/**
 * The broker a `REDIS_URL` names, or the in-process one when there is none. A `prefix=`
 * query parameter (`redis://redis:6379?prefix=chat-eu:`) sets the prefix of every channel and
 * key, so several deployments can share one Redis (default `parley:`).
 */
export function openBroker(redisUrl: string | null, log: { error(obj: object, msg: string): void }): Broker {
  const onHandlerError = (err: unknown) => log.error({ err }, 'broker handler failed');
  if (!redisUrl) return new MemoryBroker(onHandlerError);
  const { url, prefix } = splitPrefix(redisUrl);
  return new RedisBroker({
    url,
    ...(prefix !== null ? { prefix } : {}),
    onHandlerError,
    onConnectionError: (err) => log.error({ err }, 'redis connection error'),
  });
}

function splitPrefix(redisUrl: string): { url: string; prefix: string | null } {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    return { url: redisUrl, prefix: null };
  }
  const prefix = url.searchParams.get('prefix');
  if (prefix === null) return { url: redisUrl, prefix: null };
  url.searchParams.delete('prefix');
  return { url: url.toString(), prefix: prefix === '' ? null : prefix };
}
