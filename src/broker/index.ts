import type { Broker } from '../core/ports/broker.js';
import { MemoryBroker } from './memory/memory-broker.js';
import { RedisBroker } from './redis/redis-broker.js';

export { MemoryBroker } from './memory/memory-broker.js';
export { RedisBroker } from './redis/redis-broker.js';

/** The broker a `REDIS_URL` names, or the in-process one when there is none. */
export function openBroker(redisUrl: string | null, log: { error(obj: object, msg: string): void }): Broker {
  const onHandlerError = (err: unknown) => log.error({ err }, 'broker handler failed');
  if (!redisUrl) return new MemoryBroker(onHandlerError);
  return new RedisBroker({ url: redisUrl, onHandlerError, onConnectionError: (err) => log.error({ err }, 'redis connection error') });
}
