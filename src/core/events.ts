import type { Conversation, ConversationId, Message, MessageId, ReactionSummary, UserId } from './types.js';

/**
 * The closed list of domain events the core emits after a write succeeds. Broadcast,
 * notifications, hooks and webhooks all subscribe to this one stream.
 */
export type DomainEvent =
  | { type: 'message.created'; conversation: Conversation; message: Message }
  | { type: 'message.updated'; conversation: Conversation; message: Message }
  | { type: 'message.deleted'; conversation: Conversation; messageId: MessageId; soft: boolean }
  | { type: 'message.hidden'; conversationId: ConversationId; messageId: MessageId; userId: UserId }
  | {
      type: 'reaction.changed';
      conversation: Conversation;
      messageId: MessageId;
      userId: UserId;
      emoji: string;
      action: 'added' | 'removed';
      reactions: ReactionSummary[];
    }
  | {
      type: 'read.updated';
      conversation: Conversation;
      userId: UserId;
      uptoSeq: number;
      previousSeq: number;
      at: Date;
      /**
       * Set when the read also marked messages read one by one (per-message read state,
       * drf-directmessages' `read_at`): the ones in (fromSeq, uptoSeq]. A send moves the read
       * position but marks nothing, so a later read can mark messages without moving the
       * position: then `uptoSeq === previousSeq`, and what shows read positions skips the event.
       */
      marked?: { fromSeq: number; uptoSeq: number };
    }
  | { type: 'delivery.updated'; conversation: Conversation; userId: UserId; uptoSeq: number; previousSeq: number; at: Date }
  | { type: 'typing'; conversation: Conversation; userId: UserId; isTyping: boolean }
  | { type: 'member.added'; conversation: Conversation; userIds: UserId[]; by: UserId }
  | { type: 'member.removed'; conversation: Conversation; userId: UserId; by: UserId }
  | { type: 'conversation.created'; conversation: Conversation }
  | { type: 'conversation.updated'; conversation: Conversation }
  | { type: 'conversation.deleted'; conversation: Conversation; memberIds: UserId[] }
  /**
   * A real-time connection opened (`/messaging/`: `face: 'messaging'`; `/messages/ws/`:
   * `face: 'messages'`). `sessionId` is unique per connection. Not shown to clients.
   */
  | { type: 'session.started'; userId: UserId; sessionId: string; face: SessionFace; at: Date }
  /**
   * That connection closed: by the client, the server, or because it sent no heartbeat
   * within `inactivityThreshold` (`reason: 'expired'`).
   */
  | { type: 'session.ended'; userId: UserId; sessionId: string; face: SessionFace; reason: 'closed' | 'expired'; at: Date };

/** Which real-time face a session is on. */
export type SessionFace = 'messaging' | 'messages';

export type DomainEventType = DomainEvent['type'];
export type DomainEventListener = (event: DomainEvent) => void | Promise<void>;

/** A logger-shaped sink for subscriber failures; the core has no logger of its own. */
export type ErrorSink = (error: unknown, event: DomainEvent) => void;

/**
 * In-process fan-out of domain events to subscribers. A failing subscriber is reported to the
 * error sink and never fails the write that emitted the event, nor the other subscribers.
 */
export class EventStream {
  private readonly listeners = new Set<DomainEventListener>();

  constructor(private readonly onError: ErrorSink) {}

  /** Subscribes; returns the function that unsubscribes. */
  on(listener: DomainEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: DomainEvent): void {
    for (const listener of this.listeners) {
      try {
        const r = listener(event);
        if (r instanceof Promise) r.catch((e: unknown) => this.onError(e, event));
      } catch (e) {
        this.onError(e, event);
      }
    }
  }
}
