import { Redis, type RedisOptions } from 'ioredis';
import type { Broker } from '../../core/ports/broker.js';

export interface RedisBrokerOptions {
  url: string;
  /** Prefixed to every topic, so several deployments can share one Redis. */
  prefix?: string;
  onHandlerError?: (err: unknown) => void;
  onConnectionError?: (err: unknown) => void;
}

/**
 * The Redis broker: Redis Pub/Sub with one connection for publishing and one for
 * subscriptions (a subscribed Redis connection can do nothing else). ioredis reconnects with
 * backoff and re-subscribes by itself; events published while a process is cut off are missed
 * by it, and its clients catch up from the event log by cursor.
 */
export class RedisBroker implements Broker {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  private readonly interruptionListeners = new Set<(phase: 'lost' | 'restored') => void>();
  private interrupted = false;
  private closing = false;

  constructor(private readonly o: RedisBrokerOptions) {
    this.prefix = o.prefix ?? 'parley:';
    const options: RedisOptions = {
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    };
    this.pub = new Redis(o.url, options);
    this.sub = new Redis(o.url, options);
    for (const c of [this.pub, this.sub]) c.on('error', (err) => o.onConnectionError?.(err));
    this.sub.on('close', () => {
      if (this.closing || this.interrupted) return;
      this.interrupted = true;
      for (const l of [...this.interruptionListeners]) l('lost');
    });
    this.sub.on('ready', () => {
      if (!this.interrupted) return;
      this.interrupted = false;
      for (const l of [...this.interruptionListeners]) l('restored');
    });
    this.sub.on('message', (channel: string, payload: string) => {
      const set = this.handlers.get(channel);
      if (!set) return;
      for (const handler of [...set]) {
        try {
          handler(payload);
        } catch (err) {
          this.o.onHandlerError?.(err);
        }
      }
    });
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.pub.publish(this.prefix + topic, payload);
  }

  async subscribe(topic: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    const channel = this.prefix + topic;
    const entry = (payload: string) => handler(payload);
    let set = this.handlers.get(channel);
    if (!set) {
      this.handlers.set(channel, (set = new Set()));
      await this.sub.subscribe(channel);
    }
    set.add(entry);
    return async () => {
      set.delete(entry);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        await this.sub.unsubscribe(channel);
      }
    };
  }

  async setPresence(userId: number, nodeId: string, present: boolean): Promise<number> {
    const key = `${this.prefix}presence:${userId}`;
    const [, count] = (await this.pub
      .multi()
      [present ? 'sadd' : 'srem'](key, nodeId)
      .scard(key)
      .exec()) as [[Error | null, number], [Error | null, number]];
    if (count[0]) throw count[0];
    return count[1];
  }

  async onlineUsers(userIds: readonly number[]): Promise<Set<number>> {
    if (userIds.length === 0) return new Set();
    const pipeline = this.pub.pipeline();
    for (const id of userIds) pipeline.exists(`${this.prefix}presence:${id}`);
    const results = (await pipeline.exec()) ?? [];
    return new Set(userIds.filter((_, i) => results[i]?.[1] === 1));
  }

  onInterruption(listener: (phase: 'lost' | 'restored') => void): () => void {
    this.interruptionListeners.add(listener);
    return () => this.interruptionListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.handlers.clear();
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}
