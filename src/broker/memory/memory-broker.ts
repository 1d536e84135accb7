import type { Broker } from '../../core/ports/broker.js';

/**
 * The in-process broker: a map of topic → handlers. Delivery is synchronous with `publish`,
 * so a test sees every event in order without waiting.
 */
export class MemoryBroker implements Broker {
  private readonly topics = new Map<string, Set<(payload: string) => void>>();
  private closed = false;

  constructor(private readonly onHandlerError: (err: unknown) => void = () => {}) {}

  async publish(topic: string, payload: string): Promise<void> {
    if (this.closed) throw new Error('broker is closed');
    for (const handler of [...(this.topics.get(topic) ?? [])]) {
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
    let set = this.topics.get(topic);
    if (!set) this.topics.set(topic, (set = new Set()));
    set.add(entry);
    return async () => {
      set.delete(entry);
      if (set.size === 0 && this.topics.get(topic) === set) this.topics.delete(topic);
    };
  }

  private readonly presence = new Map<number, Set<string>>();

  async setPresence(userId: number, nodeId: string, present: boolean): Promise<number> {
    let nodes = this.presence.get(userId);
    if (present) {
      if (!nodes) this.presence.set(userId, (nodes = new Set()));
      nodes.add(nodeId);
    } else {
      nodes?.delete(nodeId);
      if (nodes?.size === 0) this.presence.delete(userId);
    }
    return this.presence.get(userId)?.size ?? 0;
  }

  async onlineUsers(userIds: readonly number[]): Promise<Set<number>> {
    return new Set(userIds.filter((id) => this.presence.has(id)));
  }

  /** In process, nothing is ever in between: never called. */
  onInterruption(_listener: (phase: 'lost' | 'restored') => void): () => void {
    return () => {};
  }

  async close(): Promise<void> {
    this.closed = true;
    this.topics.clear();
    this.presence.clear();
  }
}
