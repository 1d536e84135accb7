import type { Conversation, Core, DomainEvent, Message, MessageReadSignal, MessageSentSignal, ReactionSummary, User } from '../core/index.js';
import { iso, userSummary } from '../faces/http/present.js';

/**
 * The `data` of webhook bodies: a stable snake_case JSON view of each event (documented in
 * docs/extending/webhooks.md). Only public fields: no emails, password hashes or client ids.
 */

export const conversationData = (c: Conversation) => ({
  id: c.id,
  kind: c.kind,
  title: c.title,
  object: c.objectKey,
  is_public: c.isPublic,
  created_by: c.createdBy,
  created_at: iso(c.createdAt),
  updated_at: iso(c.updatedAt),
});

export const messageData = (m: Message) => ({
  id: m.id,
  conversation_id: m.conversationId,
  seq: m.seq,
  sender_id: m.senderId,
  // A soft-deleted message's text stays in the store but is never shown, here either.
  content: m.deletedAt === null ? m.content : '',
  parent_id: m.parentId,
  created_at: iso(m.createdAt),
  updated_at: iso(m.updatedAt),
  edited_at: m.editedAt ? iso(m.editedAt) : null,
  is_deleted: m.deletedAt !== null,
});

const reactionsData = (reactions: readonly ReactionSummary[]) => reactions.map((r) => ({ emoji: r.emoji, count: r.count, users: [...r.users] }));

/** `data` for a domain event. `sender` is the author of a created or updated message, if known. */
export function domainEventData(core: Core, event: DomainEvent, sender: User | null): Record<string, unknown> {
  switch (event.type) {
    case 'message.created':
    case 'message.updated':
      return {
        conversation: conversationData(event.conversation),
        message: messageData(event.message),
        sender: sender ? userSummary(core, sender) : null,
      };
    case 'message.deleted':
      return { conversation: conversationData(event.conversation), message_id: event.messageId, soft: event.soft };
    case 'message.hidden':
      return { conversation_id: event.conversationId, message_id: event.messageId, user_id: event.userId };
    case 'reaction.changed':
      return {
        conversation: conversationData(event.conversation),
        message_id: event.messageId,
        user_id: event.userId,
        emoji: event.emoji,
        action: event.action,
        reactions: reactionsData(event.reactions),
      };
    case 'read.updated':
    case 'delivery.updated':
      return {
        conversation: conversationData(event.conversation),
        user_id: event.userId,
        upto_seq: event.uptoSeq,
        previous_seq: event.previousSeq,
        at: iso(event.at),
      };
    case 'typing':
      return { conversation: conversationData(event.conversation), user_id: event.userId, is_typing: event.isTyping };
    case 'member.added':
      return { conversation: conversationData(event.conversation), user_ids: [...event.userIds], by: event.by };
    case 'member.removed':
      return { conversation: conversationData(event.conversation), user_id: event.userId, by: event.by };
    case 'conversation.created':
    case 'conversation.updated':
      return { conversation: conversationData(event.conversation) };
    case 'conversation.deleted':
      return { conversation: conversationData(event.conversation), member_ids: [...event.memberIds] };
    case 'session.started':
      return { user_id: event.userId, session_id: event.sessionId, face: event.face, at: iso(event.at) };
    case 'session.ended':
      return { user_id: event.userId, session_id: event.sessionId, face: event.face, reason: event.reason, at: iso(event.at) };
  }
}

/** `data` for drf-directmessages' `message_sent`. */
export const messageSentData = (core: Core, s: MessageSentSignal) => ({
  conversation: conversationData(s.conversation),
  message: messageData(s.message),
  from_user: userSummary(core, s.from_user),
  to: userSummary(core, s.to),
});

/** `data` for drf-directmessages' `message_read`: `to` read these messages from `from_user`. */
export const messageReadData = (core: Core, s: MessageReadSignal) => ({
  conversation: conversationData(s.conversation),
  messages: s.messages.map(messageData),
  from_user: userSummary(core, s.from_user),
  to: userSummary(core, s.to),
});
