import type {
  Attachment,
  AttachmentId,
  Conversation,
  ConversationId,
  ConversationKind,
  Member,
  MemberRole,
  Message,
  MessageId,
  Metadata,
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
 * - Each method is atomic: a method that writes several rows does so in one transaction.
 * - A write that must be stored together with its event-log and webhook-outbox rows runs in
 *   `transaction()`: all of it is stored, or none of it.
 * - Uniqueness violations are thrown as `ParleyError('conflict')`, never as driver errors.
 * - Lists come in the order the method documents; `limit` is always honoured.
 * - Methods never throw for "not found": they return `null`, `false` or an empty list.
 */
export interface Store {
  /** Applies pending migrations. Safe to call on every start. */
  migrate(): Promise<{ applied: string[] }>;
  close(): Promise<void>;

  /**
   * Runs `work` atomically, through `tx` (this store bound to one transaction): every write it
   * makes through `tx` is committed together, or none is. Use `tx` for everything inside,
   * reads included (they see the transaction's own writes).
   *
   * Group commit: units of work that arrive while a transaction is running wait and commit
   * together in one database transaction, in arrival order, each in its own savepoint. One that
   * throws is rolled back and rejected alone; the others commit. The promise settles only after
   * the commit: a resolved unit is durable. Event-log ids (`appendEvent` through `tx`) are
   * assigned in commit order across every process sharing the database, so a reader that sees
   * an event sees every event with a lower id that will ever exist.
   *
   * `work` may run more than once (a deadlock or serialization failure is retried), so it must
   * not have effects outside the database. Do not nest: `tx.transaction` is not supported.
   */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;

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
  /** The user a host application knows by `externalId` (see `upsertExternalUser`), or null. */
  getUserByExternalId(externalId: string): Promise<User | null>;
  /**
   * Provisions a host application's user on first sight, atomically: concurrent calls with one
   * `externalId` end with exactly one user. A known user gets the fields that are set and
   * differ (`undefined` keeps the stored value; `avatarUrl: null` clears it). A username taken
   * by another user gets a deterministic suffix (`name_2`, `name_3`, … then a suffix derived
   * from `externalId`) instead of failing; the username is not changed when only its suffixed
   * form is free and the user already has it. Returns the user as stored (active or not).
   */
  upsertExternalUser(input: ExternalUserInput): Promise<User>;

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
    /** `metadata`, when given, replaces the conversation's metadata (null clears it). */
    patch: { title?: string | null; isPublic?: boolean; metadata?: Metadata | null },
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
   * `joinedSeq` and their read and delivery cursors start at the conversation's current
   * `lastSeq`, so history does not count as unread, nor as read by them. Returns the user ids
   * actually added.
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
   * A page of one conversation's messages as `viewerId` sees them: messages that viewer hid,
   * or sent by a user that viewer blocks, are left out; soft-deleted ones are kept only with
   * `includeDeleted`.
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
  /** Edits the content; `metadata`, when given, replaces the message's metadata (null clears it). */
  updateMessageContent(id: MessageId, content: string, now: Date, metadata?: Metadata | null): Promise<Message | null>;
  softDeleteMessage(id: MessageId, now: Date): Promise<Message | null>;
  /**
   * Removes the message with its reactions, hides and attachment rows; replies and forwards
   * keep existing, unlinked. Stored files are the caller's: list them first (`listAttachments`).
   */
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

  // ── webhook outbox (src/webhooks) ──────────────────────────────────────────
  /**
   * Stores deliveries to send, in one transaction, as `pending` with no attempts and
   * `nextAttemptAt` = `now`. Returns them with their ids, in the order given.
   */
  enqueueWebhookDeliveries(input: readonly NewWebhookDelivery[], now: Date): Promise<WebhookDelivery[]>;
  /**
   * Takes up to `limit` pending deliveries due at `now` (oldest due first), counts an attempt
   * on each and moves its `nextAttemptAt` to `leaseUntil`: a lease, so no other caller (process)
   * claims them until then, and one that crashed mid-send is picked up again afterwards.
   * Concurrent callers never get the same delivery. Returned in id order, already updated.
   */
  claimWebhookDeliveries(now: Date, leaseUntil: Date, limit: number): Promise<WebhookDelivery[]>;
  /**
   * Records the outcome of an attempt. `delivered` → status `delivered`, `deliveredAt` = `now`;
   * otherwise `pending` again with `nextAttemptAt` = `retryAt`, or `failed` when `retryAt` is
   * null. Fenced: applies only while the delivery is still `pending` with `attempts` equal to
   * the claimed one's, so a sender whose lease ran out (and the delivery was claimed again)
   * cannot overwrite the newer attempt's result. Returns the updated delivery, or null when
   * nothing was recorded (no such delivery, or the attempt no longer holds it).
   */
  recordWebhookAttempt(claimed: WebhookClaim, outcome: WebhookAttemptOutcome, now: Date): Promise<WebhookDelivery | null>;
  /** One delivery, or null. */
  getWebhookDelivery(id: number): Promise<WebhookDelivery | null>;
  /** The delivery log: newest first (by id), optionally only one status, at most `limit`. */
  listWebhookDeliveries(query: { status?: WebhookDeliveryStatus; limit: number }): Promise<WebhookDelivery[]>;
  /**
   * Makes a `failed` (or still `pending`) delivery due again at `now`, as `pending`; attempts
   * so far are kept. Returns it, or null if there is no such delivery or it was delivered.
   */
  retryWebhookDelivery(id: number, now: Date): Promise<WebhookDelivery | null>;

  // ── attachments ──────────────────────────────────────────────────────────
  /** Records an upload (or media by URL), unattached. */
  insertAttachment(input: NewAttachment): Promise<Attachment>;
  getAttachment(id: AttachmentId): Promise<Attachment | null>;
  /** Attachments of the given messages, by id ascending (the order they were attached in). */
  listAttachments(messageIds: readonly MessageId[]): Promise<Attachment[]>;
  /** Every attachment of a conversation's messages: what to remove from storage before deleting it. */
  listConversationAttachments(conversationId: ConversationId): Promise<Attachment[]>;
  /** Unattached attachments created before `before`, oldest first, at most `limit`. */
  listUnattached(before: Date, limit: number): Promise<Attachment[]>;
  /** Deletes attachment rows; returns how many. */
  deleteAttachments(ids: readonly AttachmentId[]): Promise<number>;
  /** Totals over stored files (rows with a storage key; thumbnails not counted). */
  attachmentUsage(): Promise<AttachmentUsage>;

  // ── search ───────────────────────────────────────────────────────────────
  /**
   * Full-text search over the messages `userId` can see, in conversations they belong to,
   * best match first. Every term must match; a term with `prefix` also matches longer words;
   * a term of several words is a phrase.
   */
  searchMessages(userId: UserId, terms: readonly SearchTerm[], limit: number): Promise<SearchHit[]>;

  // ── blocks and mutes ─────────────────────────────────────────────────────
  // Every method that reads messages "as `viewerId`/`userId` sees them" (listMessages,
  // countMessages, lastMessages, countUnread, countFromOthers, listFromOthers, searchMessages)
  // leaves out messages whose sender that user blocked, exactly as it leaves out hidden ones.
  /** Records that `blockerId` blocks `blockedId`; false if it already did. */
  blockUser(blockerId: UserId, blockedId: UserId, now: Date): Promise<boolean>;
  /** Lifts a block; false if there was none. */
  unblockUser(blockerId: UserId, blockedId: UserId): Promise<boolean>;
  /** The users `blockerId` blocks, oldest block first (ties by user id). */
  listBlocked(blockerId: UserId): Promise<BlockRow[]>;
  /** Those of `among` who block `blockedId`, in no particular order. */
  listBlockersOf(blockedId: UserId, among: readonly UserId[]): Promise<UserId[]>;
  /**
   * Mutes a conversation for one member until `until` (null: until unmuted), replacing an
   * earlier mute. False (and nothing stored) when `userId` is not a member.
   */
  setMute(conversationId: ConversationId, userId: UserId, until: Date | null, now: Date): Promise<boolean>;
  /** Unmutes; false if it was not muted. */
  clearMute(conversationId: ConversationId, userId: UserId): Promise<boolean>;
  /**
   * A user's mutes, of the given conversations only when `conversationIds` is set, expired
   * ones included (the caller compares `until` with its clock), by conversation id.
   */
  listMutes(userId: UserId, conversationIds?: readonly ConversationId[]): Promise<MuteRow[]>;

  // ── read marks (per-message read state, drf-directmessages' `read_at`) ────
  // A second, stricter read position per member: it moves only when the member reads
  // (`recordRead`), never when they send, and remembers when each range was read. The read
  // cursor (`advanceReadCursor`) also moves on send, so it is always at or past the mark.
  /**
   * Marks the member's messages up to `uptoSeq` (never past the conversation's `lastSeq`) as
   * read at `now`: one range (previous mark, new mark]. The mark starts at `joinedSeq` and
   * never moves backwards. Returns the mark before and after (equal when nothing moved), or
   * null if `userId` is not a member.
   */
  recordRead(conversationId: ConversationId, userId: UserId, uptoSeq: number, now: Date): Promise<CursorMove | null>;
  /** The ranges `userId` read in one conversation that overlap (fromSeq, toSeq], by seq ascending. */
  listReadMarks(conversationId: ConversationId, userId: UserId, fromSeq: number, toSeq: number): Promise<ReadMark[]>;
  /**
   * As `countUnread`, against the read mark instead of the read cursor: messages from others,
   * not deleted, not hidden by (or from a user blocked by) `userId`, past the member's mark.
   */
  countUnreadByMark(userId: UserId, filter?: UnreadFilter): Promise<Map<ConversationId, number>>;

  // ── operations: export/import, backups, admin listings (`parley` CLI) ─────
  /** How many rows a table of the portable dump holds. */
  countRows(table: PortableTable): Promise<number>;
  /**
   * Rows of one table of the portable dump (`PORTABLE_TABLES`), ordered by the table's key,
   * those after `after` (a row returned earlier, for a keyset walk; null: from the start), at
   * most `limit`. Values are portable: times as ISO 8601 strings, flags as booleans, JSON
   * columns as objects; column names as in the schema.
   */
  exportRows(table: PortableTable, after: PortableRow | null, limit: number): Promise<PortableRow[]>;
  /**
   * Inserts rows `exportRows` returned (from this or another kind of store), ids kept, in one
   * transaction. Tables are imported in `PORTABLE_TABLES` order; then `finishImport()`.
   */
  importRows(table: PortableTable, rows: readonly PortableRow[]): Promise<number>;
  /** After an import: id generators continue after the imported ids. */
  finishImport(): Promise<void>;
  /** API and session tokens (hashes only), of one user or all, oldest first. */
  listTokens(userId: UserId | null): Promise<TokenInfo[]>;
  /**
   * A consistent copy of the database while it is in use: SQLite writes one to `file` (its
   * online backup API); a server database answers with the command that does it.
   */
  backup(file: string): Promise<BackupResult>;
  /** A token by its hash, expired or not, whoever owns it (to tell "expired" from "unknown"). */
  getTokenInfo(tokenHash: string): Promise<TokenInfo | null>;
}

/** Messages with `fromSeq < seq <= uptoSeq` were read at `readAt` (one `recordRead` that moved). */
export interface ReadMark {
  fromSeq: number;
  uptoSeq: number;
  readAt: Date;
}

/**
 * The tables `parley export` / `parley import` carry, in an order where every row's
 * references come before it. The event log and the webhook outbox stay behind: clients
 * start from a fresh cursor on the new database.
 */
export const PORTABLE_TABLES = [
  'users',
  'auth_tokens',
  'conversations',
  'members',
  'messages',
  'message_hides',
  'reactions',
  'attachments',
  'user_blocks',
  'conversation_mutes',
  'read_marks',
] as const;
export type PortableTable = (typeof PORTABLE_TABLES)[number];
export type PortableValue = string | number | boolean | null | Metadata;
/** One row of the portable dump: column name → value. */
export type PortableRow = Record<string, PortableValue>;

/** A stored token, as `listTokens` shows it (the token itself is never stored). */
export interface TokenInfo {
  tokenHash: string;
  userId: UserId;
  kind: 'api' | 'session';
  createdAt: Date;
  expiresAt: Date | null;
}

export type BackupResult = { written: string } | { command: string };

/** One block, as `listBlocked` returns it. */
export interface BlockRow {
  blockedId: UserId;
  createdAt: Date;
}

/** One member's mute of one conversation. */
export interface MuteRow {
  conversationId: ConversationId;
  userId: UserId;
  /** Muted until then; null = until unmuted. */
  until: Date | null;
  createdAt: Date;
}

export interface NewUser {
  username: string;
  displayName: string;
  email: string;
  passwordHash: string | null;
  avatarUrl?: string | null;
  now: Date;
}

/** A host application's user as `upsertExternalUser` takes it. */
export interface ExternalUserInput {
  /** The host's own, stable id for the user. */
  externalId: string;
  /** Wanted username (already valid); suffixed when another user has it. */
  username: string;
  /** On creation defaults to the username. */
  displayName?: string | undefined;
  /** On creation defaults to `''`. */
  email?: string | undefined;
  /** `null` clears it; on creation defaults to null (the configured default avatar). */
  avatarUrl?: string | null | undefined;
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
  /** Host-defined data, stored as JSON (absent or null: none). */
  metadata?: Metadata | null;
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
  /** The message forwarded (kept as `forwardedFromId`). */
  forwardedFromId?: MessageId | null;
  /** Host-defined data, stored as JSON (absent or null: none). */
  metadata?: Metadata | null;
  /**
   * Uploads to attach, in the same transaction: each must be the sender's and unattached, else
   * nothing is written and `ParleyError('validation', details.attachment_ids)` is thrown.
   */
  attachmentIds?: readonly AttachmentId[];
  /** Media by URL (or copied attachments), inserted attached to the new message. */
  media?: readonly Omit<NewAttachment, 'uploaderId' | 'now'>[];
}

export interface NewAttachment {
  uploaderId: UserId;
  storageKey: string | null;
  thumbnailKey: string | null;
  name: string;
  size: number;
  mimeType: string;
  mediaType: Attachment['mediaType'];
  width: number | null;
  height: number | null;
  externalUrl: string | null;
  metadata: Record<string, unknown> | null;
  now: Date;
}

export interface AttachmentUsage {
  files: number;
  bytes: number;
  unattachedFiles: number;
  unattachedBytes: number;
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

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NewWebhookDelivery {
  /** The endpoint's URL, which is also its key in the configuration. */
  endpointUrl: string;
  /** The event's id (`id` in the body), shared by the deliveries of one event to several endpoints. */
  eventId: string;
  eventType: string;
  /** The exact JSON body to POST (and sign). */
  payload: string;
}

/** One webhook delivery: an event on its way to one endpoint, and how that went so far. */
export interface WebhookDelivery extends NewWebhookDelivery {
  id: number;
  status: WebhookDeliveryStatus;
  /** Attempts started so far (counted when claimed). */
  attempts: number;
  /** When a pending delivery is due (or its lease ends); for the others, their last change. */
  nextAttemptAt: Date;
  /** HTTP status of the last attempt; null when there was no response (timeout, network). */
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** The attempt an outcome belongs to: the delivery as `claimWebhookDeliveries` returned it. */
export type WebhookClaim = Pick<WebhookDelivery, 'id' | 'attempts'>;

export type WebhookAttemptOutcome =
  | { delivered: true; statusCode: number }
  | { delivered: false; statusCode: number | null; error: string; retryAt: Date | null };

export interface SearchTerm {
  words: string[];
  prefix: boolean;
}

/** The canonical key of the DM between two users: the same whichever side asks. */
export const dmKey = (a: UserId, b: UserId): string => (a < b ? `${a}:${b}` : `${b}:${a}`);
