import type { ReactionSummary } from '../../core/index.js';
import type { LiveAttachment, LiveConversation, LiveEvent, LiveMessage, LiveReaction } from '../../protocol/index.js';
import { encodeCursor } from '../../realtime/cursor.js';
import type { EncodedFrame } from '../../realtime/hub.js';
import type { ByWhom, MessagingEvent, WireEditedMessage, WireMedia, WireMessage, WireReaction, WireRoom } from '../../protocol/messaging-frames.js';
import { ROOM_TYPES } from './schemas.js';
import { type Serializers, applySerializer } from '../serializers.js';

/** The host's `/messaging/` serializers (`serializers.messaging`). */
export type MessagingSerializers = NonNullable<Serializers['messaging']>;

export const wireReactions = (reactions: readonly (ReactionSummary | LiveReaction)[]): WireReaction[] =>
  reactions.map((r) => ({ reaction_content: r.emoji, count: r.count, users: [...r.users] }));

/** The message object of every frame (`message.dispatch`, history, notifications). */
export function wireMessage(m: LiveMessage, reactions: readonly (ReactionSummary | LiveReaction)[], s: MessagingSerializers = {}): WireMessage {
  const out: WireMessage = { ...wireEditedMessage(m, s), reactions: m.is_deleted ? [] : wireReactions(reactions) };
  return applySerializer(s.message, out, m);
}

function wireEditedMessage(m: LiveMessage, s: MessagingSerializers = {}): WireEditedMessage {
  const out: WireEditedMessage = {
    id: m.id,
    room_id: m.conversation_id,
    sender: applySerializer(s.user, m.sender, m.sender),
    content: m.content,
    created_at: m.created_at,
    updated_at: m.updated_at,
    is_edited: m.is_edited,
    is_deleted: m.is_deleted,
    parent_message_id: m.parent_id,
    forwarded_from_id: m.forwarded_from_id ?? null,
    attachments: (m.attachments ?? []).map(wireMedia),
    parent: m.parent ?? null,
    client_id: m.client_id,
    metadata: m.metadata ?? {},
  };
  return out;
}

/** An attachment in the seed's `MessageMediaAsset` shape (plus id, name, size, thumbnail). */
function wireMedia(a: LiveAttachment): WireMedia {
  return {
    id: a.id,
    media_url: a.url,
    media_type: a.media_type,
    file_size: a.size,
    mime_type: a.mime_type,
    metadata: a.metadata,
    name: a.name,
    width: a.width,
    height: a.height,
    thumbnail_url: a.thumbnail_url,
  };
}

export function wireRoom(c: LiveConversation, s: MessagingSerializers = {}): WireRoom {
  const out: WireRoom = {
    id: c.id,
    room_type: ROOM_TYPES[c.kind],
    name: c.title,
    object: c.object,
    is_public: c.is_public,
    created_at: c.created_at,
    updated_at: c.updated_at,
    metadata: c.metadata ?? {},
  };
  return applySerializer(s.room, out, c);
}

const byWhom = (by: number, subject: number): ByWhom => (by === subject ? 'self' : by);

/** Serializes an event frame, with the cursor of a logged event. */
function frame(event: LiveEvent, f: MessagingEvent): string {
  return JSON.stringify(event.id === null ? f : { ...f, cursor: encodeCursor(event.id) });
}

/**
 * How `/messaging/` shows every live event, whichever face caused it (this one, REST,
 * `/api/dm/`). Registered with the hub, which calls it once per event; a function result is
 * for events whose recipients see different frames.
 */
export function encodeMessagingEvent(event: LiveEvent, s: MessagingSerializers = {}): EncodedFrame {
  const body = event.body;
  const roomId = event.conversation_id ?? 0;
  switch (body.type) {
    case 'message.created':
      // A new message has no reactions yet.
      return frame(event, { eventType: 'message.dispatch', data: wireMessage(body.message, [], s) });
    case 'message.updated':
      return frame(event, {
        eventType: 'messagemodification.dispatch',
        data: { status: 'successful', action: 'update', message: applySerializer(s.message, wireEditedMessage(body.message, s), body.message) },
      });
    case 'message.deleted':
      return frame(event, {
        eventType: 'messagemodification.dispatch',
        data: { status: 'successful', action: 'delete', room_id: roomId, message_ids: [body.message_id], scope: 'everyone' },
      });
    case 'message.hidden':
      return frame(event, {
        eventType: 'messagemodification.dispatch',
        data: { status: 'successful', action: 'delete', room_id: roomId, message_ids: [body.message_id], scope: 'me' },
      });
    case 'reaction.changed':
      return frame(event, {
        eventType: 'reaction.dispatch',
        data: {
          status: 'successful',
          type: body.action === 'added' ? 'add' : 'remove',
          user_id: body.user_id,
          reaction_content: body.emoji,
          message: { id: body.message_id, room_id: roomId, reactions: wireReactions(body.reactions) },
        },
      });
    case 'read.updated':
      return frame(event, {
        eventType: 'readreceipt.dispatch',
        data: { room_id: roomId, message_id: body.message_id, user_id: body.user_id, read_at: body.read_at },
      });
    case 'delivery.updated': {
      // Recipients are the senders; each is told about their own messages only.
      return (userId) => {
        const ids = body.messages.filter((m) => m.sender_id === userId).map((m) => m.id);
        const newest = ids.length > 0 ? Math.max(...ids) : null;
        if (newest === null) return null;
        return frame(event, {
          eventType: 'messagedelivered.dispatch',
          data: { message_id: newest, message_ids: ids, room_id: roomId, delivered_to: body.messages.find((m) => m.id === newest)?.delivered_to ?? [body.user_id], delivered_at: body.delivered_at },
        });
      };
    }
    case 'typing':
      return frame(event, {
        eventType: 'messagetyping.dispatch',
        data: { room_id: roomId, user_id: body.user_id, username: body.username, is_typing: body.is_typing },
      });
    case 'member.added': {
      const [only] = body.user_ids;
      const addedBy: ByWhom = body.user_ids.length === 1 && only !== undefined ? byWhom(body.by, only) : body.by;
      return frame(event, { eventType: 'roomaddmembers.dispatch', data: { room_id: roomId, new_members: body.user_ids, added_by: addedBy } });
    }
    case 'member.removed': {
      const removedBy = byWhom(body.by, body.user_id);
      const exit = frame(event, {
        eventType: 'roomexit.dispatch',
        data: { room_id: roomId, removed_by: removedBy, message: removedBy === 'self' ? 'You left the room.' : 'You have been removed from the room.' },
      });
      const others = frame(event, {
        eventType: 'roomremovemembers.dispatch',
        data: { room_id: roomId, removed_members: [body.user_id], removed_by: removedBy },
      });
      return (userId) => (userId === body.user_id ? exit : others);
    }
    case 'conversation.created':
      return frame(event, { eventType: 'roomcreate.dispatch', data: wireRoom(body.conversation, s) });
    case 'conversation.updated':
      return frame(event, { eventType: 'roomupdate.dispatch', data: wireRoom(body.conversation, s) });
    case 'conversation.deleted':
      return frame(event, { eventType: 'roomdelete.dispatch', data: { room_id: body.conversation.id } });
    case 'presence':
      // The seed protocol has no presence event.
      return null;
    default:
      return unreachable(body);
  }
}

function unreachable(x: never): never {
  throw new Error(`unhandled live event ${JSON.stringify(x)}`);
}
