import type { MessagesEvent } from '../../src/protocol/index.js';

/** What the client knows about a user's presence. */
export interface PresenceState {
  online: boolean;
  /** ISO time the user was last seen; null while online or when not known. */
  last_seen: string | null;
}

type PresenceEvent = Extract<MessagesEvent, { type: 'presence' }>;

/**
 * Presence of the users one shares a chat with, kept from `presence` events. The server sends
 * them when a contact's first connection opens and when their last one closes; a user not in
 * the map has not changed state since this client connected. Presence events are not replayed
 * on resume, so a change that happened while this client was disconnected shows up only at the
 * user's next change.
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
