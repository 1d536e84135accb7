import type { Attachment, Conversation, Core, DomainEvent, Message, MessageExtras, ParentQuote, User, UserId } from '../core/index.js';
import type { Store } from '../core/ports/store.js';
import type { LiveAttachment, LiveConversation, LiveEvent, LiveEventBody, LiveMessage, LiveUser, WireParent } from '../protocol/index.js';

/** What a domain event becomes for clients: its body, who gets it, and whether it is logged. */
export interface BuiltEvent {
  body: LiveEventBody;
  conversationId: number | null;
  recipients: UserId[];
  /** The recipients are named in the log (not "the members at read time"). */
  targeted: boolean;
  /** Logged (has an id, replayed on resume); typing is not. */
  durable: boolean;
}

/**
 * The canonical live views (message, user, attachment, conversation) and the event builder:
 * the neutral form every real-time face encodes from, built once per event.
 */
export class LiveViews {
  /**
   * `typing(event)`: whether a typing change is news (a refresh of an indicator still shown is
   * not); the hub keeps that state.
   */
  constructor(
    private readonly core: Core,
    private readonly typingIsNews: (event: Extract<DomainEvent, { type: 'typing' }>) => boolean,
  ) {}

  /**
   * Builds an event's neutral body and decides who gets it and whether it is logged, reading
   * through `store` (inside a write's transaction, the transaction). Null: nothing to show.
   */
  async build(event: DomainEvent, store: Store): Promise<BuiltEvent | null> {
    const { core } = this;
    const membersOf = async (id: number) => (await store.listMembers(id)).map((m) => m.userId);
    switch (event.type) {
      case 'message.created':
      case 'message.updated': {
        const [sender, extras] = await Promise.all([
          store.getUser(event.message.senderId),
          event.extras ?? core.attachments.extrasOf([event.message], store).then((byId) => byId.get(event.message.id)),
        ]);
        const message = this.liveMessage(event.message, sender, extras);
        // Members who block the sender do not get the message, live or on resume: when there
        // are any, the event names its recipients (the frame is still serialized once).
        const members = await membersOf(event.conversation.id);
        const blockers = new Set(await store.listBlockersOf(event.message.senderId, members));
        const recipients = blockers.size > 0 ? members.filter((id) => !blockers.has(id)) : members;
        return { body: { type: event.type, message }, conversationId: event.conversation.id, recipients, targeted: blockers.size > 0, durable: true };
      }
      case 'message.deleted':
        return { body: { type: 'message.deleted', message_id: event.messageId, soft: event.soft }, conversationId: event.conversation.id, recipients: await membersOf(event.conversation.id), targeted: false, durable: true };
      case 'message.hidden':
        return { body: { type: 'message.hidden', message_id: event.messageId, user_id: event.userId }, conversationId: event.conversationId, recipients: [event.userId], targeted: true, durable: true };
      case 'reaction.changed':
        return {
          body: { type: 'reaction.changed', message_id: event.messageId, user_id: event.userId, emoji: event.emoji, action: event.action, reactions: event.reactions },
          conversationId: event.conversation.id,
          recipients: await membersOf(event.conversation.id),
          targeted: false,
          durable: true,
        };
      case 'read.updated': {
        const [m] = await store.listSeqRange(event.conversation.id, event.uptoSeq - 1, event.uptoSeq, 1);
        return {
          body: { type: 'read.updated', user_id: event.userId, upto_seq: event.uptoSeq, previous_seq: event.previousSeq, message_id: m?.id ?? null, read_at: event.at.toISOString() },
          conversationId: event.conversation.id,
          recipients: await membersOf(event.conversation.id),
          targeted: false,
          durable: true,
        };
      }
      case 'delivery.updated': {
        const [range, members] = await Promise.all([
          store.listSeqRange(event.conversation.id, event.previousSeq, event.uptoSeq, 500),
          store.listMembers(event.conversation.id),
        ]);
        const messages = range
          .filter((m) => m.senderId !== event.userId)
          .map((m) => ({ id: m.id, sender_id: m.senderId, delivered_to: core.messages.deliveredTo(m, members) }));
        if (messages.length === 0) return null;
        const senders = [...new Set(messages.map((m) => m.sender_id))];
        return {
          body: { type: 'delivery.updated', user_id: event.userId, upto_seq: event.uptoSeq, messages, delivered_at: event.at.toISOString() },
          conversationId: event.conversation.id,
          recipients: senders,
          targeted: true,
          durable: true,
        };
      }
      case 'typing': {
        if (!this.typingIsNews(event)) return null;
        const user = await store.getUser(event.userId);
        return {
          body: { type: 'typing', user_id: event.userId, username: user?.username ?? '', is_typing: event.isTyping },
          conversationId: event.conversation.id,
          recipients: await (async () => {
            const others = (await membersOf(event.conversation.id)).filter((id) => id !== event.userId);
            const blockers = new Set(await store.listBlockersOf(event.userId, others));
            return others.filter((id) => !blockers.has(id));
          })(),
          targeted: false,
          durable: false,
        };
      }
      case 'member.added':
        return { body: { type: 'member.added', user_ids: event.userIds, by: event.by }, conversationId: event.conversation.id, recipients: await membersOf(event.conversation.id), targeted: false, durable: true };
      case 'member.removed': {
        const recipients = [...(await membersOf(event.conversation.id)), event.userId];
        return { body: { type: 'member.removed', user_id: event.userId, by: event.by }, conversationId: event.conversation.id, recipients, targeted: true, durable: true };
      }
      case 'conversation.created':
      case 'conversation.updated':
        return {
          body: { type: event.type, conversation: this.liveConversation(event.conversation) },
          conversationId: event.conversation.id,
          recipients: await membersOf(event.conversation.id),
          targeted: false,
          durable: true,
        };
      case 'conversation.deleted':
        return {
          body: { type: 'conversation.deleted', conversation: this.liveConversation(event.conversation) },
          conversationId: event.conversation.id,
          recipients: event.memberIds,
          targeted: true,
          durable: true,
        };
      case 'session.started':
      case 'session.ended':
        return null;
    }
  }

  liveUser(user: User | null, id: UserId): LiveUser {
    const { core } = this;
    if (!user) return { id, username: 'deleted', display_name: 'Deleted user', avatar_url: '' };
    return { id: user.id, username: user.username, display_name: core.users.displayName(user), avatar_url: core.users.avatarUrl(user) };
  }

  /** `extras`: attachments and the reply quote (`core.attachments.extrasOf`); none when absent. */
  liveMessage(m: Message, sender: User | null, extras?: MessageExtras): LiveMessage {
    const deleted = m.deletedAt !== null;
    return {
      id: m.id,
      conversation_id: m.conversationId,
      seq: m.seq,
      sender: this.liveUser(sender, m.senderId),
      content: deleted ? '' : m.content,
      created_at: m.createdAt.toISOString(),
      updated_at: m.updatedAt.toISOString(),
      is_edited: m.editedAt !== null,
      is_deleted: deleted,
      parent_id: m.parentId,
      client_id: m.clientId,
      attachments: deleted ? [] : (extras?.attachments ?? []).map((a) => this.liveAttachment(a)),
      parent_message_id: m.parentId,
      forwarded_from_id: m.forwardedFromId ?? null,
      parent: deleted ? null : this.liveParent(extras?.parent ?? null),
      ...(m.metadata && !deleted ? { metadata: m.metadata } : {}),
    };
  }

  liveAttachment(a: Attachment): LiveAttachment {
    const { core } = this;
    return {
      id: a.id,
      name: a.name,
      size: a.size,
      mime_type: a.mimeType,
      media_type: a.mediaType,
      width: a.width,
      height: a.height,
      url: core.attachments.url(a),
      thumbnail_url: core.attachments.url(a, true),
      created_at: a.createdAt.toISOString(),
      stored: a.storageKey !== null,
      metadata: a.metadata,
    };
  }

  liveParent(p: ParentQuote | null): WireParent | null {
    if (!p) return null;
    const user = this.liveUser(p.sender, p.senderId);
    return { id: p.id, sender: { id: user.id, username: user.username, display_name: user.display_name }, content: p.content, deleted: p.deleted };
  }

  /**
   * Signed file URLs in a logged event expire; each encoding (live, or a replay hours later)
   * signs them again. Events without stored files are passed through as they are.
   */
  withFreshUrls(event: LiveEvent): LiveEvent {
    const body = event.body;
    if (body.type !== 'message.created' && body.type !== 'message.updated') return event;
    const atts = body.message.attachments;
    if (!atts || !atts.some((a) => a.stored)) return event;
    const { attachments } = this.core;
    const fresh = atts.map((a) =>
      a.stored ? { ...a, url: attachments.signedUrl(a.id), thumbnail_url: a.thumbnail_url === null ? null : attachments.signedUrl(a.id, true) } : a,
    );
    return { ...event, body: { ...body, message: { ...body.message, attachments: fresh } } };
  }

  liveConversation(c: Conversation): LiveConversation {
    return {
      id: c.id,
      kind: c.kind,
      title: c.title,
      object: c.objectKey,
      is_public: c.isPublic,
      created_at: c.createdAt.toISOString(),
      updated_at: c.updatedAt.toISOString(),
      ...(c.metadata ? { metadata: c.metadata } : {}),
    };
  }
}
