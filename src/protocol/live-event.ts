/**
 * The face-neutral form of every real-time event. The hub builds one `LiveEvent` per domain
 * event, logs it, publishes it through the broker, and each face turns it into its own frame
 * once. The client SDK and the faces share these types.
 */

import type { LiveAttachment, WireParent } from './attachments.js';

export interface LiveUser {
  id: number;
  username: string;
  display_name: string;
  avatar_url: string;
}

export interface LiveMessage {
  id: number;
  conversation_id: number;
  seq: number;
  sender: LiveUser;
  content: string;
  created_at: string;
  updated_at: string;
  is_edited: boolean;
  is_deleted: boolean;
  parent_id: number | null;
  client_id: string | null;
  /** Empty for deleted messages. Absent in events logged before attachments existed. */
  attachments?: LiveAttachment[];
  parent_message_id?: number | null;
  forwarded_from_id?: number | null;
  /** The replied-to message, for quoting. */
  parent?: WireParent | null;
  /** Host-defined data (`metadataSchema`); absent when none, or in events logged before it existed. */
  metadata?: Record<string, unknown>;
}

export interface LiveConversation {
  id: number;
  kind: 'dm' | 'group' | 'channel' | 'room';
  title: string | null;
  object: string | null;
  is_public: boolean;
  created_at: string;
  updated_at: string;
  /** Host-defined data (`metadataSchema`); absent when none. */
  metadata?: Record<string, unknown>;
}

export interface LiveReaction {
  emoji: string;
  count: number;
  users: number[];
}

/** What happened. A closed union: faces switch over `type` and the compiler checks them. */
export type LiveEventBody =
  | { type: 'message.created'; message: LiveMessage }
  | { type: 'message.updated'; message: LiveMessage }
  | { type: 'message.deleted'; message_id: number; soft: boolean }
  | { type: 'message.hidden'; message_id: number; user_id: number }
  | { type: 'reaction.changed'; message_id: number; user_id: number; emoji: string; action: 'added' | 'removed'; reactions: LiveReaction[] }
  | { type: 'read.updated'; user_id: number; upto_seq: number; previous_seq: number; message_id: number | null; read_at: string }
  | {
      type: 'delivery.updated';
      user_id: number;
      upto_seq: number;
      /** The newly delivered messages, with everyone their delivery has reached so far. */
      messages: { id: number; sender_id: number; delivered_to: number[] }[];
      delivered_at: string;
    }
  | { type: 'typing'; user_id: number; username: string; is_typing: boolean }
  | { type: 'member.added'; user_ids: number[]; by: number }
  | { type: 'member.removed'; user_id: number; by: number }
  | { type: 'conversation.created'; conversation: LiveConversation }
  | { type: 'conversation.updated'; conversation: LiveConversation }
  | { type: 'conversation.deleted'; conversation: LiveConversation }
  | { type: 'presence'; user_id: number; online: boolean; last_seen: string | null };

export type LiveEventType = LiveEventBody['type'];

export interface LiveEvent {
  /** Position in the event log; null for ephemeral events (typing, presence) that are not logged. */
  id: number | null;
  conversation_id: number | null;
  /** ISO time the event happened. */
  at: string;
  /** Who receives it live. */
  recipients: number[];
  body: LiveEventBody;
}
