import type { MessagesEvent } from '../../src/protocol/index.js';

/** What the client knows about a user's presence. */
export interface PresenceState {
  online: boolean;
  /** ISO time the user was last seen; null while online or when not known. */
  last_seen: string | null;
}

type PresenceEvent = Extract<MessagesEvent, { type: 'presence' }>;

/**
 * Presence of the users one shares a chat with, kept from `presence` events. On connect the
 * server sends one for each contact online then (right after a WebSocket `ready`; in the first
 * poll of a long-poll session), then one when a contact's first connection opens and when
 * their last one closes. A user not in the map is offline as far as this client knows.
 * Presence events are not replayed on resume: a WebSocket client starts again from the
 * snapshot of each (re)connection.
 */
export class PresenceMap {
  private readonly users = new Map<number, PresenceState>();

  apply(event: PresenceEvent): void {
    this.users.set(event.user_id, { online: event.online, last_seen: event.last_seen });
  }

  get(userId: number): PresenceState | undefined {
    return this.users.get(userId);
  }

  /** The ids of the users known to be online now. */
  online(): number[] {
    return [...this.users].filter(([, s]) => s.online).map(([id]) => id);
  }

  clear(): void {
    this.users.clear();
  }
}
