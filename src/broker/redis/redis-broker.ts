import { Redis, type RedisOptions } from 'ioredis';
import type { Broker } from '../../core/ports/broker.js';
import { DEFAULT_PRESENCE_TTL_MS, refreshEvery } from '../presence-ttl.js';

/** Removes from a user's set (KEYS[1]) the nodes (ARGV[2..]) whose liveness key (ARGV[1] + node) is gone. */
const PRUNE_DEAD_NODES = `for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then redis.call('SREM', KEYS[1], ARGV[i]) end
end
return 0`;

export interface RedisBrokerOptions {
  url: string;
  /** Prefixed to every topic, so several deployments can share one Redis. */
  prefix?: string;
  onHandlerError?: (err: unknown) => void;
  onConnectionError?: (err: unknown) => void;
  /**
   * How long a process's presence outlives its last refresh (it refreshes every third of
   * this). After a process is killed, its users count as offline once this has passed.
   * Default 30 s.
   */
  presenceTtlMs?: number;
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
  private readonly ttlMs: number;
  /** The users each node of this process holds, to refresh (and restore) its presence. */
  private readonly own = new Map<string, Set<number>>();
  private readonly refreshTimer: ReturnType<typeof setInterval>;

  constructor(private readonly o: RedisBrokerOptions) {
    this.prefix = o.prefix ?? 'parley:';
    this.ttlMs = o.presenceTtlMs ?? DEFAULT_PRESENCE_TTL_MS;
    this.refreshTimer = setInterval(() => {
      this.refreshPresence().catch((err: unknown) => o.onConnectionError?.(err));
    }, refreshEvery(this.ttlMs));
    this.refreshTimer.unref();
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

  /**
   * Presence is kept in two kinds of keys: `presence:<user>`, the set of nodes holding the
   * user, and `presence-node:<node>`, which exists while that node (a process) is alive: it
   * expires `presenceTtlMs` after the node's last refresh. A node that is gone no longer
   * counts, and is pruned from the sets it is found in.
   */
  async setPresence(userId: number, nodeId: string, present: boolean): Promise<number> {
    const key = this.userKey(userId);
    let held = this.own.get(nodeId);
    if (present) {
      if (!held) this.own.set(nodeId, (held = new Set()));
      held.add(userId);
    } else {
      held?.delete(userId);
    }
    const tx = this.pub.multi();
    if (present) tx.set(this.nodeKey(nodeId), '1', 'PX', this.ttlMs).sadd(key, nodeId);
    else tx.srem(key, nodeId);
    tx.smembers(key);
    const results = (await tx.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
    const members = (results[results.length - 1]?.[1] ?? []) as string[];
    const alive = await this.aliveNodes(members);
    const dead = members.filter((n) => !alive.has(n));
    // Atomically re-checked: a node whose key came back meanwhile (see `refreshPresence`) stays.
    if (dead.length > 0) await this.pub.eval(PRUNE_DEAD_NODES, 1, key, this.nodeKey(''), ...dead);
    return members.length - dead.length;
  }

  async onlineUsers(userIds: readonly number[]): Promise<Set<number>> {
    if (userIds.length === 0) return new Set();
    const pipeline = this.pub.pipeline();
    for (const id of userIds) pipeline.smembers(this.userKey(id));
    const results = (await pipeline.exec()) ?? [];
    const holders = userIds.map((_, i) => {
      const [err, members] = results[i] ?? [null, []];
      if (err) throw err;
      return members as string[];
    });
    const alive = await this.aliveNodes([...new Set(holders.flat())]);
    return new Set(userIds.filter((_, i) => holders[i]!.some((n) => alive.has(n))));
  }

  private userKey(userId: number): string {
    return `${this.prefix}presence:${userId}`;
  }

  private nodeKey(nodeId: string): string {
    return `${this.prefix}presence-node:${nodeId}`;
  }

  /** The nodes among `nodeIds` whose liveness key has not expired. */
  private async aliveNodes(nodeIds: readonly string[]): Promise<Set<string>> {
    if (nodeIds.length === 0) return new Set();
    const values = await this.pub.mget(...nodeIds.map((n) => this.nodeKey(n)));
    return new Set(nodeIds.filter((_, i) => values[i] !== null));
  }

  /**
   * Keeps this process's nodes alive. A node key that had expired anyway (Redis was away for
   * longer than the TTL, or restarted empty) may have been pruned from the user sets: its
   * users are put back.
   */
  private async refreshPresence(): Promise<void> {
    for (const [nodeId, users] of this.own) {
      if (users.size === 0) {
        this.own.delete(nodeId);
        continue;
      }
      const refreshed = await this.pub.set(this.nodeKey(nodeId), '1', 'PX', this.ttlMs, 'XX');
      if (refreshed !== null) continue;
      const tx = this.pub.multi().set(this.nodeKey(nodeId), '1', 'PX', this.ttlMs);
      for (const userId of users) tx.sadd(this.userKey(userId), nodeId);
      await tx.exec();
    }
  }

  onInterruption(listener: (phase: 'lost' | 'restored') => void): () => void {
    this.interruptionListeners.add(listener);
    return () => this.interruptionListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closing = true;
    // Presence is left to expire: the hub said goodbye for its users before closing, and
    // what remains is what a killed process would leave.
    clearInterval(this.refreshTimer);
    this.handlers.clear();
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}
