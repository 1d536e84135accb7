/**
 * Wire format of the Django Messaging live events (seed 003) as Parley serves them on
 * `/messages/ws/`, on the long-poll `GET /messages/api/events/` and on its SSE variant. The
 * server, the client SDK and the tests share these types.
 *
 * Every logged event carries `cursor`: pass the last one you saw as `?cursor=` when you
 * reconnect (either WebSocket URL) or as the long-poll `cursor`, and you get exactly what you
 * missed. Ephemeral events (`typing`, `presence`) have no cursor and are not replayed.
 */

import type { WireAttachment, WireParent } from './attachments.js';

export interface WireUser {
  id: number;
  username: string;
  display_name: string;
  avatar_url: string;
}

export interface WireReaction {
  emoji: string;
  count: number;
  users: number[];
}

/** The same shape as a message of `GET /messages/api/chats/{id}/messages/`. */
export interface WireMessage {
  id: number;
  chat: number;
  content: string;
  created_at: string;
  updated_at: string;
  is_edited: boolean;
  is_deleted: boolean;
  sender: WireUser;
  reactions: WireReaction[];
  read_by: number[];
  parent_id: number | null;
  client_id: string | null;
  attachments: WireAttachment[];
  /** Same as `parent_id`. */
  parent_message_id: number | null;
  forwarded_from_id: number | null;
  /** The replied-to message, for quoting. */
  parent: WireParent | null;
  /** Host-defined data (`metadataSchema`); `{}` when none. */
  metadata: Record<string, unknown>;
}

/**
 * The message of a `message_updated` frame: the REST shape without `reactions` and `read_by`,
 * which the event does not carry (an empty list would read as "none"). A client keeps the
 * ones it has; `reaction_updated` and `read` frames keep them current.
 */
export type WireUpdatedMessage = Omit<WireMessage, 'reactions' | 'read_by'>;

export interface WireChat {
  id: number;
  title: string | null;
  chat_type: 'dm' | 'group' | 'channel' | 'room';
  object: string | null;
  is_public: boolean;
  /** Host-defined data (`metadataSchema`); `{}` when none. */
  metadata: Record<string, unknown>;
}

/** Server → client events. */
export type MessagesEvent =
  | { type: 'new_message'; chat_id: number; message: WireMessage; cursor: string }
  | { type: 'message_updated'; chat_id: number; message: WireUpdatedMessage; cursor: string }
  | { type: 'message_deleted'; chat_id: number; message_id: number; cursor: string }
  | { type: 'message_hidden'; chat_id: number; message_id: number; cursor: string }
  | {
      type: 'reaction_updated';
      chat_id: number;
      message_id: number;
      reactions: WireReaction[];
      user_id: number;
      emoji: string;
      action: 'added' | 'removed';
      cursor: string;
    }
  | { type: 'read'; chat_id: number; user_id: number; message_id: number | null; upto_seq: number; read_at: string; cursor: string }
  | { type: 'member_added'; chat_id: number; user_ids: number[]; cursor: string }
  | { type: 'member_removed'; chat_id: number; user_id: number; cursor: string }
  | { type: 'chat_created' | 'chat_updated' | 'chat_deleted'; chat_id: number; chat: WireChat; cursor: string }
  | { type: 'typing'; chat_id: number; user_id: number; username: string; is_typing: boolean }
  | { type: 'presence'; user_id: number; online: boolean; last_seen: string | null };

/** Control frames: connection state rather than chat events. */
export type MessagesControl =
  /** Sent once the replay (if any) is done and live events follow; `cursor` is the position now. */
  | { type: 'ready'; user_id: number; cursor: string }
  /** The cursor given was too old or not valid: refetch over REST, then continue from `cursor`. */
  | { type: 'resync'; reason: 'expired' | 'invalid'; cursor: string }
  | { type: 'pong' }
  | { type: 'error'; detail: string };

export type MessagesFrame = MessagesEvent | MessagesControl;

/** Client → server frames on `/messages/ws/` (sending messages goes through REST). */
export type MessagesClientFrame = { type: 'ping' } | { type: 'typing'; chat_id: number; is_typing: boolean };

/** `GET /messages/api/events/?cursor=…&timeout=…` */
export interface LongPollResponse {
  events: MessagesEvent[];
  /** Pass this as `cursor` next time. */
  cursor: string;
  /** Set when the given cursor could not be resumed from (see the `resync` frame). */
  resync?: { reason: 'expired' | 'invalid' };
}
