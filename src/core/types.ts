/** Domain types shared by the core, the stores and the faces. Ids are integers everywhere. */

export type UserId = number;
export type ConversationId = number;
export type MessageId = number;

export interface User {
  id: UserId;
  username: string;
  displayName: string;
  email: string;
  /** Set by the host or the user; `null` means the configured default avatar is used. */
  avatarUrl: string | null;
  isActive: boolean;
  createdAt: Date;
}

/** A user row plus the secret the auth module needs; never leaves `src/auth`. */
export interface UserWithPassword extends User {
  passwordHash: string | null;
}

export const CONVERSATION_KINDS = ['dm', 'group', 'channel', 'room'] as const;
export type ConversationKind = (typeof CONVERSATION_KINDS)[number];

export const MEMBER_ROLES = ['admin', 'moderator', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export interface Conversation {
  id: ConversationId;
  kind: ConversationKind;
  /** `null` for DMs: each side sees the partner's name instead. */
  title: string | null;
  /** For rooms: the content object they belong to, e.g. `product:42`. */
  objectKey: string | null;
  /** Public rooms and channels can be joined by anyone. */
  isPublic: boolean;
  createdBy: UserId | null;
  createdAt: Date;
  updatedAt: Date;
  /** Time of the last message, or of creation; conversation lists sort by it. */
  lastActivityAt: Date;
  /** Sequence number of the newest message (0 when empty). */
  lastSeq: number;
  /**
   * The host's extra data (validated by `metadataSchema.conversation`); absent when none was
   * ever set.
   */
  metadata?: Metadata | null;
}

/** A JSON object of host-defined data on a message or conversation. */
export type Metadata = Record<string, unknown>;

export interface Member {
  conversationId: ConversationId;
  userId: UserId;
  role: MemberRole;
  joinedAt: Date;
  /**
   * The conversation's `lastSeq` when this member joined. Messages with `seq <= joinedSeq` were
   * sent before they were a member: they never count as read or delivered by them.
   */
  joinedSeq: number;
  /**
   * Read cursor: every message with `joinedSeq < seq <= lastReadSeq` counts as read by this
   * member. It starts at `joinedSeq`, so history before the join is not unread either.
   */
  lastReadSeq: number;
  /** When the read cursor last moved. */
  readAt: Date | null;
  /** Delivery cursor, moved by acknowledgements (real-time protocol). */
  lastDeliveredSeq: number;
  deliveredAt: Date | null;
}

export interface Message {
  id: MessageId;
  conversationId: ConversationId;
  /** Position in the conversation, 1, 2, 3…, never reused. */
  seq: number;
  senderId: UserId;
  content: string;
  parentId: MessageId | null;
  /** Client-chosen id for idempotent sends (unique per sender). */
  clientId: string | null;
  createdAt: Date;
  updatedAt: Date;
  editedAt: Date | null;
  /** Set on soft delete; content is kept in the store but never shown. */
  deletedAt: Date | null;
  /** The message this one forwards (a copy of its content and attachments), if any. */
  forwardedFromId?: MessageId | null;
  /** The host's extra data (validated by `metadataSchema.message`); absent when none was ever set. */
  metadata?: Metadata | null;
}

export interface ReactionRow {
  messageId: MessageId;
  userId: UserId;
  emoji: string;
  createdAt: Date;
}

/** Reactions of one message grouped by emoji, in the order each emoji first appeared. */
export interface ReactionSummary {
  emoji: string;
  count: number;
  users: UserId[];
}

export interface SearchHit {
  message: Message;
  /** HTML-safe snippet: user text escaped, matches wrapped in `<mark>…</mark>`. */
  highlighted: string;
  rank: number;
}

export type AttachmentId = number;

export const MEDIA_TYPES = ['image', 'video', 'audio', 'file'] as const;
/** How a client shows an attachment: inline image/player, or a download. */
export type MediaType = (typeof MEDIA_TYPES)[number];

/**
 * A file uploaded by a user (stored under `storageKey` in the `FileStorage`) or media given
 * by URL (`externalUrl`, no stored file). Unattached (`messageId` null) until a message is sent
 * with it; unattached uploads are swept after `uploads.unattachedTtlHours`.
 */
export interface Attachment {
  id: AttachmentId;
  uploaderId: UserId;
  messageId: MessageId | null;
  storageKey: string | null;
  thumbnailKey: string | null;
  /** The original file name, as given by the uploader (shown, never used as a path). */
  name: string;
  size: number;
  /** Decided from the file's bytes, not its name or the declared type. */
  mimeType: string;
  mediaType: MediaType;
  width: number | null;
  height: number | null;
  externalUrl: string | null;
  /** Free-form JSON the client gave (the `/messaging/` media `metadata`). */
  metadata: Record<string, unknown> | null;
  createdAt: Date;
}
