/**
 * The broker port: how server processes tell each other about events. The in-process broker
 * serves a single process; the Redis broker (scale-out) implements the same interface and
 * both pass `test/contract/broker.contract.ts`.
 *
 * Rules every implementation keeps:
 * - Payloads are strings, serialized once by the publisher and delivered byte-for-byte.
 * - Messages published to one topic by one publisher arrive at each subscriber in publish order.
 * - Delivery is at-most-once: a subscriber that is away misses messages. Nothing is lost for
 *   clients, because every stored event is in the event log and clients resume by cursor.
 * - `publish` resolves once the broker accepted the message, not when subscribers ran.
 * - A handler that throws does not affect other handlers or later messages.
 */
export interface Broker {
  publish(topic: string, payload: string): Promise<void>;
  /** Subscribes; resolves once the subscription is active, to a function that ends it. */
  subscribe(topic: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * Presence shared by every process: records that process `nodeId` holds live connections
   * of `userId` (`present`) or none any more. Resolves to how many processes hold the user
   * afterwards, so a process knows when a user came online (1) or went offline (0) overall.
   * A node's entries last while the broker that set them is open and refreshing them: once it
   * is closed (or its process killed), they stop counting after the broker's presence TTL.
   */
  setPresence(userId: number, nodeId: string, present: boolean): Promise<number>;
  /** The users among `userIds` that some process holds a live connection of. */
  onlineUsers(userIds: readonly number[]): Promise<Set<number>>;
  /**
   * Tells when this process stops receiving (`lost`: the subscription connection dropped) and
   * when it receives again (`restored`: subscriptions are back). Messages published in
   * between were missed here; the hub then catches its clients up from the event log.
   * Returns the function that stops listening.
   */
  onInterruption(listener: (phase: 'lost' | 'restored') => void): () => void;
  close(): Promise<void>;
}
