import type { Attachment, Conversation, Core, DomainEvent, Message, MessageId, MessageReadSignal, MessageSentSignal, ReactionSummary, Store, User } from '../core/index.js';
import { metadataOut } from '../faces/http/metadata.js';
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
  metadata: metadataOut(c),
});

/**
 * What message payloads carry beyond the message row: its attachments, loaded for every
 * message of an event in one batch (`loadMessageExtras`), and how to link them.
 */
export interface MessageExtrasView {
  attachments: ReadonlyMap<MessageId, readonly Attachment[]>;
  /**
   * A file's URL, or null to leave `url` out: only with `publicUrl` does a receiver elsewhere
   * get an absolute URL it can fetch (signed, so it expires after `uploads.urlTtlSeconds`).
   */
  url: ((a: Attachment) => string | null) | null;
}

const NO_EXTRAS: MessageExtrasView = { attachments: new Map(), url: null };

/** Attachments of `messages` in one batch; `withUrls` when `publicUrl` makes file URLs absolute. */
export async function loadMessageExtras(core: Core, messages: readonly Message[], withUrls: boolean, store: Store = core.store): Promise<MessageExtrasView> {
  const extras = await core.attachments.extrasOf(messages, store);
  const attachments = new Map<MessageId, readonly Attachment[]>();
  for (const [id, e] of extras) attachments.set(id, e.attachments);
  return { attachments, url: withUrls ? (a) => core.attachments.url(a) : null };
}

const attachmentData = (a: Attachment, url: MessageExtrasView['url']) => ({
  id: a.id,
  name: a.name,
  size: a.size,
  mime_type: a.mimeType,
  media_type: a.mediaType,
  width: a.width,
  height: a.height,
  ...(url ? { url: url(a) } : {}),
});

export const messageData = (m: Message, extras: MessageExtrasView = NO_EXTRAS) => ({
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
  // Like the REST face: a deleted message shows no metadata and no files.
  metadata: m.deletedAt === null ? metadataOut(m) : {},
  parent_message_id: m.parentId,
  forwarded_from_id: m.forwardedFromId ?? null,
  attachments: (extras.attachments.get(m.id) ?? []).map((a) => attachmentData(a, extras.url)),
});

const reactionsData = (reactions: readonly ReactionSummary[]) => reactions.map((r) => ({ emoji: r.emoji, count: r.count, users: [...r.users] }));

/**
 * `data` for a domain event. `sender` is the author of a created or updated message, if known;
 * `extras` holds that message's attachments.
 */
export function domainEventData(core: Core, event: DomainEvent, sender: User | null, extras: MessageExtrasView = NO_EXTRAS): Record<string, unknown> {
  switch (event.type) {
    case 'message.created':
    case 'message.updated':
      return {
        conversation: conversationData(event.conversation),
        message: messageData(event.message, extras),
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
export const messageSentData = (core: Core, s: MessageSentSignal, extras: MessageExtrasView = NO_EXTRAS) => ({
  conversation: conversationData(s.conversation),
  message: messageData(s.message, extras),
  from_user: userSummary(core, s.from_user),
  to: userSummary(core, s.to),
});

/** `data` for drf-directmessages' `message_read`: `to` read these messages from `from_user`. */
export const messageReadData = (core: Core, s: MessageReadSignal, extras: MessageExtrasView = NO_EXTRAS) => ({
  conversation: conversationData(s.conversation),
  messages: s.messages.map((m) => messageData(m, extras)),
  from_user: userSummary(core, s.from_user),
  to: userSummary(core, s.to),
});
