import type { Broker } from '../../core/ports/broker.js';
import { DEFAULT_PRESENCE_TTL_MS, refreshEvery } from '../presence-ttl.js';

export interface MemoryBrokerOptions {
  /**
   * How long a process's presence outlives its last refresh (each broker refreshes its own
   * every third of this). Default 30 s. Only observable with `shareWith`.
   */
  presenceTtlMs?: number;
  /**
   * Another in-process broker to share topics and presence with, the way processes share one
   * Redis: several Parley instances in one process (tests). Closing one of them is then what
   * a killed process is: its presence expires after `presenceTtlMs`.
   */
  shareWith?: MemoryBroker;
}

/** What brokers sharing one process-wide "Redis" share. */
class Bus {
  readonly topics = new Map<string, Set<(payload: string) => void>>();
  /** user → the nodes holding them. */
  readonly presence = new Map<number, Set<string>>();
  /** node → when its presence expires unless refreshed (ms since the epoch). */
  readonly nodes = new Map<string, number>();

  alive(nodeId: string, now: number): boolean {
    return (this.nodes.get(nodeId) ?? 0) > now;
  }
}

/**
 * The in-process broker: a map of topic → handlers. Delivery is synchronous with `publish`,
 * so a test sees every event in order without waiting. Presence keeps the contract of the
 * Redis broker: a node's entries count only while the broker that set them refreshes them.
 */
export class MemoryBroker implements Broker {
  private readonly bus: Bus;
  private closed = false;
  private readonly ttlMs: number;
  /** This broker's subscriptions, removed from a shared bus on close. */
  private readonly mine = new Set<{ topic: string; entry: (payload: string) => void }>();
  /** Nodes this broker set presence for: it keeps them alive. */
  private readonly ownNodes = new Set<string>();
  private readonly refreshTimer: ReturnType<typeof setInterval>;

  constructor(
    private readonly onHandlerError: (err: unknown) => void = () => {},
    options: MemoryBrokerOptions = {},
  ) {
    this.bus = options.shareWith?.bus ?? new Bus();
    this.ttlMs = options.presenceTtlMs ?? DEFAULT_PRESENCE_TTL_MS;
    this.refreshTimer = setInterval(() => {
      const until = Date.now() + this.ttlMs;
      for (const node of this.ownNodes) this.bus.nodes.set(node, until);
    }, refreshEvery(this.ttlMs));
    this.refreshTimer.unref();
  }

  async publish(topic: string, payload: string): Promise<void> {
    if (this.closed) throw new Error('broker is closed');
    for (const handler of [...(this.bus.topics.get(topic) ?? [])]) {
      try {
        handler(payload);
      } catch (err) {
        this.onHandlerError(err);
      }
    }
  }

  async subscribe(topic: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('broker is closed');
    // Wrapped so the same function subscribed twice counts as two subscriptions.
    const entry = (payload: string) => handler(payload);
    const { topics } = this.bus;
    let set = topics.get(topic);
    if (!set) topics.set(topic, (set = new Set()));
    set.add(entry);
    const sub = { topic, entry };
    this.mine.add(sub);
    return async () => {
      this.mine.delete(sub);
      set.delete(entry);
      if (set.size === 0 && topics.get(topic) === set) topics.delete(topic);
    };
  }

  async setPresence(userId: number, nodeId: string, present: boolean): Promise<number> {
    const { presence, nodes } = this.bus;
    const now = Date.now();
    let holders = presence.get(userId);
    if (present) {
      this.ownNodes.add(nodeId);
      nodes.set(nodeId, now + this.ttlMs);
      if (!holders) presence.set(userId, (holders = new Set()));
      holders.add(nodeId);
    } else {
      holders?.delete(nodeId);
    }
    // Nodes that stopped refreshing (a killed process) no longer hold anyone.
    for (const node of holders ?? []) if (!this.bus.alive(node, now)) holders?.delete(node);
    if (holders?.size === 0) presence.delete(userId);
    return holders?.size ?? 0;
  }

  async onlineUsers(userIds: readonly number[]): Promise<Set<number>> {
    const now = Date.now();
    return new Set(userIds.filter((id) => [...(this.bus.presence.get(id) ?? [])].some((node) => this.bus.alive(node, now))));
  }

  /** In process, nothing is ever in between: never called. */
  onInterruption(_listener: (phase: 'lost' | 'restored') => void): () => void {
    return () => {};
  }

  /** Stops refreshing this broker's presence, which then expires like a killed process's. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refreshTimer);
    for (const { topic, entry } of this.mine) {
      const set = this.bus.topics.get(topic);
      set?.delete(entry);
      if (set?.size === 0) this.bus.topics.delete(topic);
    }
    this.mine.clear();
    this.ownNodes.clear();
  }
}
