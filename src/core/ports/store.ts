import type {
  Conversation,
  ConversationId,
  ConversationKind,
  Member,
  MemberRole,
  Message,
  MessageId,
  ReactionRow,
  SearchHit,
  User,
  UserId,
  UserWithPassword,
} from '../types.js';

/**
 * The storage port. The core talks to storage only through this interface; SQLite (and
 * later PostgreSQL) implement it and pass `test/contract/store.contract.ts`.
 *
 * Rules every implementation keeps:
 * - Each method is atomic: a method that writes several rows does so in one transaction, so
 *   the core never needs a transaction of its own.
 * - Uniqueness violations are thrown as `ParleyError('conflict')`, never as driver errors.
 * - Lists come in the order the method documents; `limit` is always honoured.
 * - Methods never throw for "not found": they return `null`, `false` or an empty list.
 */
export interface Store {
  /** Applies pending migrations. Safe to call on every start. */
  migrate(): Promise<{ applied: string[] }>;
  close(): Promise<void>;

  // ── users ────────────────────────────────────────────────────────────────
  /** Throws `conflict` (details.username) if the username is taken (case-insensitive). */
  createUser(input: NewUser): Promise<User>;
  getUser(id: UserId): Promise<User | null>;
  /** Case-insensitive. Includes the password hash for the auth module. */
  getUserByUsername(username: string): Promise<UserWithPassword | null>;
  /** The users found, in no particular order; unknown ids are skipped. */
  getUsers(ids: readonly UserId[]): Promise<User[]>;
  /**
   * Active users whose username, display name or email contains `query` (case-insensitive),
   * ordered by username, at most `limit`.
   */
  searchUsers(query: string, limit: number): Promise<User[]>;
  updateUser(
    id: UserId,
    patch: Partial<Pick<User, 'displayName' | 'email' | 'avatarUrl' | 'isActive'>>,
  ): Promise<User | null>;
  setPasswordHash(id: UserId, hash: string): Promise<void>;

  // ── auth tokens (only their hashes are stored) ───────────────────────────
  createToken(input: NewToken): Promise<void>;
  /** The active user owning an unexpired token with this hash, or null. */
  getUserByTokenHash(tokenHash: string, now: Date): Promise<User | null>;
  deleteToken(tokenHash: string): Promise<boolean>;

  // ── conversations ────────────────────────────────────────────────────────
  /**
   * Creates a conversation and its first members in one transaction. Throws `conflict` if
   * `dmKey` or `objectKey` is already used, so two racing creators end with one conversation.
   */
  createConversation(input: NewConversation): Promise<Conversation>;
  getConversation(id: ConversationId): Promise<Conversation | null>;
  /** The DM for a pair key (see `dmKey()`), or null. */
  getConversationByDmKey(dmKey: string): Promise<Conversation | null>;
  getConversationByObjectKey(objectKey: string): Promise<Conversation | null>;
  updateConversation(
    id: ConversationId,
    patch: { title?: string | null; isPublic?: boolean },
    now: Date,
  ): Promise<Conversation | null>;
  /** Deletes the conversation with its members, messages and reactions. */
  deleteConversation(id: ConversationId): Promise<boolean>;
  /**
   * The conversations `userId` is a member of, newest activity first (ties: higher id first).
   * `search` matches the title or a member's username or display name (case-insensitive).
   * `after` continues a keyset walk after the last item of a previous page; `total` counts
   * every match, ignoring `limit`, `offset` and `after`.
   */
  listConversations(
    userId: UserId,
    query: ConversationQuery,
  ): Promise<{ total: number; items: Conversation[] }>;

  // ── members ──────────────────────────────────────────────────────────────
  getMember(conversationId: ConversationId, userId: UserId): Promise<Member | null>;
  /** Members in join order (ties by user id). */
  listMembers(conversationId: ConversationId): Promise<Member[]>;
  /** Members of many conversations at once, for list pages; same order per conversation. */
  listMembersOf(conversationIds: readonly ConversationId[]): Promise<Member[]>;
  countMembers(conversationId: ConversationId): Promise<number>;
  /**
   * Adds users that are not members yet; existing members keep their role. New members'
   * read and delivery cursors start at the conversation's current `lastSeq`, so history does
   * not count as unread. Returns the user ids actually added.
   */
  addMembers(
    conversationId: ConversationId,
    members: readonly { userId: UserId; role: MemberRole }[],
    now: Date,
  ): Promise<UserId[]>;
  removeMember(conversationId: ConversationId, userId: UserId): Promise<boolean>;
  setMemberRole(conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<boolean>;

  // ── messages ─────────────────────────────────────────────────────────────
  /**
   * Appends a message: takes the next `seq`, bumps the conversation's `lastSeq` and
   * `lastActivityAt`, and moves the sender's read and delivery cursors to the new seq, in
   * one transaction. If `clientId` is set and this sender already stored a message with it
   * in this conversation, nothing is written and that message comes back with `created: false`.
   */
  insertMessage(input: NewMessage): Promise<{ message: Message; created: boolean }>;
  getMessage(id: MessageId): Promise<Message | null>;
  /**
   * A page of one conversation's messages as `viewerId` sees them: messages that viewer hid
   * are left out; soft-deleted ones are kept only with `includeDeleted`.
   * Order: `newestFirst` → seq descending, else ascending. `beforeSeq`/`afterSeq` are
   * exclusive bounds; `offset` skips that many in the chosen order.
   */
  listMessages(conversationId: ConversationId, query: MessageQuery): Promise<Message[]>;
  /** How many messages `listMessages` would return without `limit` and `offset`. */
  countMessages(conversationId: ConversationId, query: MessageFilter): Promise<number>;
  /** The newest message of each conversation that `viewerId` sees (not deleted, not hidden). */
  lastMessages(
    conversationIds: readonly ConversationId[],
    viewerId: UserId,
  ): Promise<Map<ConversationId, Message>>;
  updateMessageContent(id: MessageId, content: string, now: Date): Promise<Message | null>;
  softDeleteMessage(id: MessageId, now: Date): Promise<Message | null>;
  /** Removes the message with its reactions and hides; replies keep existing, unlinked. */
  hardDeleteMessage(id: MessageId): Promise<boolean>;
  /** Hides a message for one user only (the drf-directmessages delete). Idempotent. */
  hideMessage(messageId: MessageId, userId: UserId, now: Date): Promise<void>;

  // ── reactions ────────────────────────────────────────────────────────────
  /** Adds the reaction if absent, removes it if present; says which happened. */
  toggleReaction(
    messageId: MessageId,
    userId: UserId,
    emoji: string,
    now: Date,
  ): Promise<'added' | 'removed'>;
  /** Reactions of the given messages, oldest first. */
  listReactions(messageIds: readonly MessageId[]): Promise<ReactionRow[]>;

  // ── read and delivery cursors ────────────────────────────────────────────
  /**
   * Moves a member's read cursor forward to `uptoSeq` (never backwards, never past the
   * conversation's `lastSeq`) and stamps `readAt` when it moves. Returns the cursor before
   * and after (equal when nothing moved), or null if `userId` is not a member.
   */
  advanceReadCursor(
    conversationId: ConversationId,
    userId: UserId,
    uptoSeq: number,
    now: Date,
  ): Promise<CursorMove | null>;
  /** Same as `advanceReadCursor`, for the delivery cursor. */
  advanceDeliveryCursor(
    conversationId: ConversationId,
    userId: UserId,
    uptoSeq: number,
    now: Date,
  ): Promise<CursorMove | null>;
  /**
   * Unread messages per conversation for `userId`: messages from others, not deleted, not
   * hidden by `userId`, with seq past the member's read cursor. Conversations with none are
   * absent from the map.
   */
  countUnread(userId: UserId, filter?: UnreadFilter): Promise<Map<ConversationId, number>>;
  /** How many messages from others lie in (fromSeq, toSeq], visible to `userId`. */
  countFromOthers(
    conversationId: ConversationId,
    userId: UserId,
    fromSeq: number,
    toSeq: number,
  ): Promise<number>;

  /** Every membership of a user (all their conversations), oldest first. */
  listMembershipsOf(userId: UserId): Promise<Member[]>;
  /** Distinct users who share at least one conversation with `userId` (not `userId`). */
  listContactsOf(userId: UserId): Promise<UserId[]>;
  /** Messages from others in (fromSeq, toSeq], ascending, at most `limit`. */
  listFromOthers(conversationId: ConversationId, userId: UserId, fromSeq: number, toSeq: number, limit: number): Promise<Message[]>;
  /** Messages of one conversation in (fromSeq, toSeq], ascending, at most `limit` (any sender, deleted included). */
  listSeqRange(conversationId: ConversationId, fromSeq: number, toSeq: number, limit: number): Promise<Message[]>;
  setLastSeen(userId: UserId, at: Date): Promise<void>;
  getLastSeen(userIds: readonly UserId[]): Promise<Map<UserId, Date>>;

  // ── event log (real-time resume) ──────────────────────────────────────────
  /**
   * Appends an event to the log and gives it the next id. Ids only grow and are never
   * reused, even after pruning, so an id is a resume cursor. `recipients` null means "the
   * members of `conversationId`", decided when the log is read; a list names the users.
   */
  appendEvent(input: NewEvent): Promise<StoredEvent>;
  /**
   * Events with id > `afterId` that `userId` may see (conversations they are a member of
   * now, or events naming them), ascending by id, at most `limit`.
   */
  listEventsFor(userId: UserId, afterId: number, limit: number): Promise<StoredEvent[]>;
  /** The lowest and highest id still in the log; `{oldest: 0, newest: <last id ever>}` when empty. */
  eventLogBounds(): Promise<{ oldest: number; newest: number }>;
  /** Deletes events created before `before`; returns how many. */
  pruneEvents(before: Date): Promise<number>;

  // ── search ───────────────────────────────────────────────────────────────
  /**
   * Full-text search over the messages `userId` can see, in conversations they belong to,
   * best match first. Every term must match; a term with `prefix` also matches longer words;
   * a term of several words is a phrase.
   */
  searchMessages(userId: UserId, terms: readonly SearchTerm[], limit: number): Promise<SearchHit[]>;
}

export interface NewUser {
  username: string;
  displayName: string;
  email: string;
  passwordHash: string | null;
  avatarUrl?: string | null;
  now: Date;
}

export interface NewToken {
  tokenHash: string;
  userId: UserId;
  kind: 'api' | 'session';
  expiresAt: Date | null;
  now: Date;
}

export interface NewConversation {
  kind: ConversationKind;
  title: string | null;
  objectKey: string | null;
  dmKey: string | null;
  isPublic: boolean;
  createdBy: UserId | null;
  members: readonly { userId: UserId; role: MemberRole }[];
  now: Date;
}

export interface ConversationQuery {
  kinds?: readonly ConversationKind[];
  search?: string;
  limit: number;
  offset?: number;
  after?: { lastActivityAt: Date; id: ConversationId };
}

export interface MessageFilter {
  viewerId: UserId;
  includeDeleted: boolean;
  beforeSeq?: number;
  afterSeq?: number;
}

export interface MessageQuery extends MessageFilter {
  newestFirst: boolean;
  limit: number;
  offset?: number;
}

export interface NewMessage {
  conversationId: ConversationId;
  senderId: UserId;
  content: string;
  parentId: MessageId | null;
  clientId: string | null;
  now: Date;
}

export interface CursorMove {
  before: number;
  after: number;
}

export interface UnreadFilter {
  conversationIds?: readonly ConversationId[];
  kinds?: readonly ConversationKind[];
}

export interface NewEvent {
  conversationId: ConversationId | null;
  type: string;
  /** JSON text, stored and returned as is. */
  payload: string;
  recipients: readonly UserId[] | null;
  now: Date;
}

export interface StoredEvent {
  id: number;
  conversationId: ConversationId | null;
  type: string;
  payload: string;
  createdAt: Date;
}

export interface SearchTerm {
  words: string[];
  prefix: boolean;
}

/** The canonical key of the DM between two users: the same whichever side asks. */
export const dmKey = (a: UserId, b: UserId): string => (a < b ? `${a}:${b}` : `${b}:${a}`);
