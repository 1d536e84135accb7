import type { StoredEvent } from '../../core/ports/store.js';
import type { Conversation, ConversationKind, Member, MemberRole, Message, ReactionRow, User } from '../../core/types.js';

/**
 * Row shapes as node-postgres returns them (timestamptz → Date, boolean → boolean, int8 →
 * number through the store's type parser), the column lists the store selects, and their
 * mapping to domain types.
 */

export interface UserRow {
  id: number;
  username: string;
  display_name: string;
  email: string;
  avatar_url: string | null;
  password_hash: string | null;
  is_active: boolean;
  created_at: Date;
}

export interface ConversationRow {
  id: number;
  kind: ConversationKind;
  title: string | null;
  object_key: string | null;
  dm_key: string | null;
  is_public: boolean;
  created_by: number | null;
  created_at: Date;
  updated_at: Date;
  last_activity_at: Date;
  last_seq: number;
  /** JSONB; added by migration 0006. */
  metadata?: Record<string, unknown> | null;
}

export interface MemberRow {
  conversation_id: number;
  user_id: number;
  role: MemberRole;
  joined_at: Date;
  joined_seq: number;
  last_read_seq: number;
  read_at: Date | null;
  last_delivered_seq: number;
  delivered_at: Date | null;
}

export interface MessageRow {
  id: number;
  conversation_id: number;
  seq: number;
  sender_id: number;
  content: string;
  parent_id: number | null;
  client_id: string | null;
  created_at: Date;
  updated_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  /** Added by migration 0007. */
  forwarded_from_id?: number | null;
  /** JSONB; added by migration 0006. */
  metadata?: Record<string, unknown> | null;
}

export interface ReactionDbRow {
  message_id: number;
  user_id: number;
  emoji: string;
  created_at: Date;
}

export interface EventRow {
  id: number;
  conversation_id: number | null;
  type: string;
  payload: string;
  targeted: boolean;
  created_at: Date;
}

// Explicit column lists rather than `*`: prepared statements then survive a later migration
// that adds a column, and messages never ship their tsvector.
const columns =
  (names: readonly string[]) =>
  (alias?: string): string =>
    names.map((n) => (alias ? `${alias}.${n}` : n)).join(', ');

export const userColumns = columns(['id', 'username', 'display_name', 'email', 'avatar_url', 'password_hash', 'is_active', 'created_at']);
export const conversationColumns = columns([
  'id', 'kind', 'title', 'object_key', 'dm_key', 'is_public', 'created_by', 'created_at', 'updated_at', 'last_activity_at', 'last_seq',
  'metadata',
]);
export const memberColumns = columns([
  'conversation_id', 'user_id', 'role', 'joined_at', 'joined_seq', 'last_read_seq', 'read_at', 'last_delivered_seq', 'delivered_at',
]);
export const messageColumns = columns([
  'id', 'conversation_id', 'seq', 'sender_id', 'content', 'parent_id', 'client_id', 'created_at', 'updated_at', 'edited_at', 'deleted_at',
  'forwarded_from_id', 'metadata',
]);
export const eventColumns = columns(['id', 'conversation_id', 'type', 'payload', 'targeted', 'created_at']);

export const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  email: r.email,
  avatarUrl: r.avatar_url,
  isActive: r.is_active,
  createdAt: r.created_at,
});

export const toConversation = (r: ConversationRow): Conversation => ({
  id: r.id,
  kind: r.kind,
  title: r.title,
  objectKey: r.object_key,
  isPublic: r.is_public,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastActivityAt: r.last_activity_at,
  lastSeq: r.last_seq,
  ...(r.metadata != null ? { metadata: r.metadata } : {}),
});

export const toMember = (r: MemberRow): Member => ({
  conversationId: r.conversation_id,
  userId: r.user_id,
  role: r.role,
  joinedAt: r.joined_at,
  joinedSeq: r.joined_seq,
  lastReadSeq: r.last_read_seq,
  readAt: r.read_at,
  lastDeliveredSeq: r.last_delivered_seq,
  deliveredAt: r.delivered_at,
});

export const toMessage = (r: MessageRow): Message => ({
  id: r.id,
  conversationId: r.conversation_id,
  seq: r.seq,
  senderId: r.sender_id,
  content: r.content,
  parentId: r.parent_id,
  clientId: r.client_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  editedAt: r.edited_at,
  deletedAt: r.deleted_at,
  forwardedFromId: r.forwarded_from_id ?? null,
  ...(r.metadata != null ? { metadata: r.metadata } : {}),
});

export const toReaction = (r: ReactionDbRow): ReactionRow => ({
  messageId: r.message_id,
  userId: r.user_id,
  emoji: r.emoji,
  createdAt: r.created_at,
});

export const toEvent = (r: EventRow): StoredEvent => ({
  id: r.id,
  conversationId: r.conversation_id,
  type: r.type,
  payload: r.payload,
  createdAt: r.created_at,
});
