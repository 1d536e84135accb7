import type { StoredEvent } from '../../core/ports/store.js';
import type { Conversation, ConversationKind, Member, MemberRole, Message, User } from '../../core/types.js';

/** Row shapes as SQLite returns them, and their mapping to domain types. */

export interface UserRow {
  id: number;
  username: string;
  display_name: string;
  email: string;
  avatar_url: string | null;
  password_hash: string | null;
  is_active: number;
  created_at: number;
}

export interface ConversationRow {
  id: number;
  kind: ConversationKind;
  title: string | null;
  object_key: string | null;
  dm_key: string | null;
  is_public: number;
  created_by: number | null;
  created_at: number;
  updated_at: number;
  last_activity_at: number;
  last_seq: number;
  /** JSON text; added by migration 0006. */
  metadata?: string | null;
}

export interface MemberRow {
  conversation_id: number;
  user_id: number;
  role: MemberRole;
  joined_at: number;
  joined_seq: number;
  last_read_seq: number;
  read_at: number | null;
  last_delivered_seq: number;
  delivered_at: number | null;
}

export interface MessageRow {
  id: number;
  conversation_id: number;
  seq: number;
  sender_id: number;
  content: string;
  parent_id: number | null;
  client_id: string | null;
  created_at: number;
  updated_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  /** Added by migration 0007. */
  forwarded_from_id?: number | null;
  /** JSON text; added by migration 0006. */
  metadata?: string | null;
}

const date = (v: number | null): Date | null => (v === null ? null : new Date(v));

export const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  email: r.email,
  avatarUrl: r.avatar_url,
  isActive: r.is_active === 1,
  createdAt: new Date(r.created_at),
});

export const toConversation = (r: ConversationRow): Conversation => ({
  id: r.id,
  kind: r.kind,
  title: r.title,
  objectKey: r.object_key,
  isPublic: r.is_public === 1,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  lastActivityAt: new Date(r.last_activity_at),
  lastSeq: r.last_seq,
  ...metadataOf(r.metadata),
});

/** `{ metadata }` when the row has any, else nothing (so rows without it compare as before). */
function metadataOf(text: string | null | undefined): { metadata?: Record<string, unknown> } {
  if (text === null || text === undefined) return {};
  return { metadata: JSON.parse(text) as Record<string, unknown> };
}

export const toMember = (r: MemberRow): Member => ({
  conversationId: r.conversation_id,
  userId: r.user_id,
  role: r.role,
  joinedAt: new Date(r.joined_at),
  joinedSeq: r.joined_seq,
  lastReadSeq: r.last_read_seq,
  readAt: date(r.read_at),
  lastDeliveredSeq: r.last_delivered_seq,
  deliveredAt: date(r.delivered_at),
});

export const toMessage = (r: MessageRow): Message => ({
  id: r.id,
  conversationId: r.conversation_id,
  seq: r.seq,
  senderId: r.sender_id,
  content: r.content,
  parentId: r.parent_id,
  clientId: r.client_id,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  editedAt: date(r.edited_at),
  deletedAt: date(r.deleted_at),
  forwardedFromId: r.forwarded_from_id ?? null,
  ...metadataOf(r.metadata),
});

export interface EventRow {
  id: number;
  conversation_id: number | null;
  type: string;
  payload: string;
  targeted: number;
  created_at: number;
}

export const toEvent = (r: EventRow): StoredEvent => ({
  id: r.id,
  conversationId: r.conversation_id,
  type: r.type,
  payload: r.payload,
  createdAt: new Date(r.created_at),
});
