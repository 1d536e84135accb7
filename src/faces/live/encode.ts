import type {
  LiveAttachment,
  WireAttachment,
  LiveConversation,
  LiveEvent,
  LiveEventType,
  LiveMessage,
  MessagesEvent,
  WireChat,
  WireMessage,
  WireUpdatedMessage,
} from '../../protocol/index.js';
import { encodeCursor } from '../../realtime/cursor.js';
import { type Serializers, applySerializer } from '../serializers.js';

/** The host's serializers of this face (`serializers.live`). */
export type LiveSerializers = NonNullable<Serializers['live']>;

/** The frame type each neutral event becomes on this face; null: not shown here. */
export const WIRE_TYPE: Record<LiveEventType, MessagesEvent['type'] | null> = {
  'message.created': 'new_message',
  'message.updated': 'message_updated',
  'message.deleted': 'message_deleted',
  'message.hidden': 'message_hidden',
  'reaction.changed': 'reaction_updated',
  'read.updated': 'read',
  'delivery.updated': null,
  typing: 'typing',
  'member.added': 'member_added',
  'member.removed': 'member_removed',
  'conversation.created': 'chat_created',
  'conversation.updated': 'chat_updated',
  'conversation.deleted': 'chat_deleted',
  presence: 'presence',
};

/**
 * A message as `GET /messages/api/chats/{id}/messages/` shows it.
 *
 * Reactions and read receipts are not part of the neutral message (the hub builds one event
 * for every recipient without loading them), so:
 * - `new_message`: `reactions: []` and `read_by: [sender]` are exact (a new message has no
 *   reactions, and sending moves the sender's read cursor).
 * - `message_updated`: no `reactions` or `read_by` at all (`WireUpdatedMessage`), so no client
 *   takes an empty list for the truth; it keeps what it has, which `reaction_updated` and
 *   `read` frames keep current.
 */
function wireMessage(m: LiveMessage, readBy: number[], s: LiveSerializers): WireMessage {
  return applySerializer(s.message, { ...restShape(m), read_by: readBy }, m);
}

function wireUpdatedMessage(m: LiveMessage, s: LiveSerializers): WireUpdatedMessage {
  const { reactions: _notCarried, read_by: _notCarriedEither, ...out } = restShape(m);
  return applySerializer(s.message, out, m);
}

/** The REST field order, with the receipts the caller fills in or leaves out. */
function restShape(m: LiveMessage): WireMessage {
  return {
    id: m.id,
    chat: m.conversation_id,
    content: m.content,
    created_at: m.created_at,
    updated_at: m.updated_at,
    is_edited: m.is_edited,
    is_deleted: m.is_deleted,
    sender: { id: m.sender.id, username: m.sender.username, display_name: m.sender.display_name, avatar_url: m.sender.avatar_url },
    reactions: [],
    read_by: [],
    parent_id: m.parent_id,
    client_id: m.client_id,
    attachments: (m.attachments ?? []).map(wireAttachment),
    parent_message_id: m.parent_message_id ?? m.parent_id,
    forwarded_from_id: m.forwarded_from_id ?? null,
    parent: m.parent ?? null,
    metadata: m.metadata ?? {},
  };
}

/** The REST shape of an attachment: the live one without its log-only fields. */
function wireAttachment(a: LiveAttachment): WireAttachment {
  return {
    id: a.id,
    name: a.name,
    size: a.size,
    mime_type: a.mime_type,
    media_type: a.media_type,
    width: a.width,
    height: a.height,
    url: a.url,
    thumbnail_url: a.thumbnail_url,
    created_at: a.created_at,
  };
}

function wireChat(c: LiveConversation): WireChat {
  return { id: c.id, title: c.title, chat_type: c.kind, object: c.object, is_public: c.is_public, metadata: c.metadata ?? {} };
}

/** The frame of an event as an object; null when this face does not show it. */
export function toMessagesEvent(event: LiveEvent, s: LiveSerializers = {}): MessagesEvent | null {
  const { body } = event;
  // Ephemeral events carry no cursor: they are not logged, so there is nothing to resume.
  switch (body.type) {
    case 'typing':
      if (event.conversation_id === null) return null;
      return { type: 'typing', chat_id: event.conversation_id, user_id: body.user_id, username: body.username, is_typing: body.is_typing };
    case 'presence':
      return { type: 'presence', user_id: body.user_id, online: body.online, last_seen: body.last_seen };
    case 'delivery.updated':
      return null;
    default:
      break;
  }
  // Everything else is logged by the hub; an event without a log position could not be
  // resumed, and every frame of these types promises a cursor.
  if (event.id === null) return null;
  const cursor = encodeCursor(event.id);
  switch (body.type) {
    case 'message.created':
      return { type: 'new_message', chat_id: body.message.conversation_id, message: wireMessage(body.message, [body.message.sender.id], s), cursor };
    case 'message.updated':
      return { type: 'message_updated', chat_id: body.message.conversation_id, message: wireUpdatedMessage(body.message, s), cursor };
    default:
      break;
  }
  const chatId = event.conversation_id;
  if (chatId === null) return null;
  switch (body.type) {
    case 'message.deleted':
      return { type: 'message_deleted', chat_id: chatId, message_id: body.message_id, cursor };
    case 'message.hidden':
      return { type: 'message_hidden', chat_id: chatId, message_id: body.message_id, cursor };
    case 'reaction.changed':
      return {
        type: 'reaction_updated',
        chat_id: chatId,
        message_id: body.message_id,
        reactions: body.reactions.map((r) => ({ emoji: r.emoji, count: r.count, users: [...r.users] })),
        user_id: body.user_id,
        emoji: body.emoji,
        action: body.action,
        cursor,
      };
    case 'read.updated':
      return { type: 'read', chat_id: chatId, user_id: body.user_id, message_id: body.message_id, upto_seq: body.upto_seq, read_at: body.read_at, cursor };
    case 'member.added':
      return { type: 'member_added', chat_id: chatId, user_ids: [...body.user_ids], cursor };
    case 'member.removed':
      return { type: 'member_removed', chat_id: chatId, user_id: body.user_id, cursor };
    case 'conversation.created':
    case 'conversation.updated':
    case 'conversation.deleted': {
      const type = WIRE_TYPE[body.type] as 'chat_created' | 'chat_updated' | 'chat_deleted';
      return { type, chat_id: chatId, chat: wireChat(body.conversation), cursor };
    }
  }
}

/**
 * The `messages` face's encoder for the hub: one JSON string per event, shared by every
 * recipient's WebSocket, long-poll and SSE stream (the hub caches it per event).
 */
export function encodeMessagesEvent(event: LiveEvent, s: LiveSerializers = {}): string | null {
  const frame = toMessagesEvent(event, s);
  return frame === null ? null : JSON.stringify(frame);
}
