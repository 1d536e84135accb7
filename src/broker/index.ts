import type { Broker } from '../core/ports/broker.js';
import { MemoryBroker } from './memory/memory-broker.js';
import { RedisBroker } from './redis/redis-broker.js';

export { MemoryBroker } from './memory/memory-broker.js';
export { RedisBroker } from './redis/redis-broker.js';

/**
 * The broker a `REDIS_URL` names, or the in-process one when there is none. A `prefix=`
 * query parameter (`redis://redis:6379?prefix=chat-eu:`) sets the prefix of every channel and
 * key, so several deployments can share one Redis (default `parley:`). `presence_ttl=`
 * (seconds, default 30) is how long the users of a process that died without closing its
 * connections (SIGKILL) still count as online.
 */
export function openBroker(redisUrl: string | null, log: { error(obj: object, msg: string): void }): Broker {
  const onHandlerError = (err: unknown) => log.error({ err }, 'broker handler failed');
  if (!redisUrl) return new MemoryBroker(onHandlerError);
  const { url: withTtl, prefix } = splitPrefix(redisUrl);
  const { url, presenceTtlMs } = splitPresenceTtl(withTtl);
  return new RedisBroker({
    url,
    ...(prefix !== null ? { prefix } : {}),
    ...(presenceTtlMs !== null ? { presenceTtlMs } : {}),
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

/** `presence_ttl=` (seconds) taken out of the URL; an unusable value is refused at startup. */
function splitPresenceTtl(redisUrl: string): { url: string; presenceTtlMs: number | null } {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    return { url: redisUrl, presenceTtlMs: null };
  }
  const raw = url.searchParams.get('presence_ttl');
  if (raw === null) return { url: redisUrl, presenceTtlMs: null };
  const seconds = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds < 0.1 || seconds > 86_400) {
    throw new Error(`REDIS_URL: presence_ttl must be a number of seconds between 0.1 and 86400, not "${raw}"`);
  }
  url.searchParams.delete('presence_ttl');
  return { url: url.toString(), presenceTtlMs: Math.round(seconds * 1000) };
}
