import type { MessageExtras } from './attachments.js';
import type { Store } from './ports/store.js';
import type { Conversation, ConversationId, Message, MessageId, ReactionSummary, UserId } from './types.js';

/**
 * The closed list of domain events the core emits after a write succeeds. Broadcast,
 * notifications, hooks and webhooks all subscribe to this one stream.
 */
export type DomainEvent =
  /** `extras`: the message's attachments and reply quote, read in the write (absent: not loaded). */
  | { type: 'message.created'; conversation: Conversation; message: Message; extras?: MessageExtras }
  | { type: 'message.updated'; conversation: Conversation; message: Message; extras?: MessageExtras }
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

/**
 * A subscriber that stores something together with the write that caused the event (the
 * real-time event log, the webhook outbox): it runs inside the write's transaction, through
 * `tx`, so the write and what it records are committed together or not at all. A failure
 * fails the write. It may run more than once for one write (a retried transaction).
 */
export type JournalWriter = (tx: Store, event: DomainEvent) => Promise<void>;

/** A logger-shaped sink for subscriber failures; the core has no logger of its own. */
export type ErrorSink = (error: unknown, event: DomainEvent) => void;

/**
 * In-process fan-out of domain events to subscribers. A failing subscriber is reported to the
 * error sink and never fails the write that emitted the event, nor the other subscribers.
 */
export class EventStream {
  private readonly listeners = new Set<DomainEventListener>();
  private readonly writers = new Set<JournalWriter>();

  constructor(private readonly onError: ErrorSink) {}

  /** Subscribes; returns the function that unsubscribes. */
  on(listener: DomainEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds a journal writer (see `JournalWriter`); returns the function that removes it. */
  journal(writer: JournalWriter): () => void {
    this.writers.add(writer);
    return () => this.writers.delete(writer);
  }

  /** Runs every journal writer for `event`, inside the write's transaction. */
  async record(tx: Store, event: DomainEvent): Promise<void> {
    for (const writer of this.writers) await writer(tx, event);
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
