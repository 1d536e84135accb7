import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { conflict, invalid } from '../../core/errors.js';
import type {
  AttachmentUsage,
  NewAttachment,
  BlockRow,
  MuteRow,
  ConversationQuery,
  CursorMove,
  ReadMark,
  MessageFilter,
  MessageQuery,
  NewConversation,
  NewEvent,
  NewMessage,
  NewToken,
  NewUser,
  ExternalUserInput,
  SearchTerm,
  StoredEvent,
  Store,
  UnreadFilter,
} from '../../core/ports/store.js';
import { MATCH_END, MATCH_START, markedSnippetToHtml } from '../../core/text.js';
import type {
  Attachment,
  AttachmentId,
  Conversation,
  ConversationId,
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
} from '../../core/types.js';
import { externalUserPatch, usernameCandidates } from '../external-users.js';
import { GroupCommit } from '../group-commit.js';
import { migrations } from './migrations.js';
import { SqliteWebhookOutbox } from './webhook-outbox.js';
import type { BackupResult, PortableRow, PortableTable, TokenInfo } from '../../core/ports/store.js';
import { sqliteCountRows, sqliteExportRows, sqliteImportRows, sqliteListTokens, sqliteTokenInfo } from './portable-rows.js';
import type { NewWebhookDelivery, WebhookAttemptOutcome, WebhookClaim, WebhookDelivery, WebhookDeliveryStatus } from '../../core/ports/store.js';
import { type AttachmentRow, toAttachment } from './attachment-rows.js';
import {
  type ConversationRow,
  type EventRow,
  type MemberRow,
  type MessageRow,
  type UserRow,
  toConversation,
  toMember,
  toEvent,
  toMessage,
  toUser,
} from './rows.js';

type Db = Database.Database;

const ms = (d: Date): number => d.getTime();
const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(',');
/** Leaves out messages whose sender the viewer (the one `?`) blocks; `m` is the message. */
const NOT_BLOCKED = 'NOT EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = ? AND b.blocked_id = m.sender_id)';

/** The `UnreadFilter` part of the unread counts, its values pushed onto `params`; null: nothing can match. */
function unreadWhere(params: unknown[], filter: UnreadFilter): string[] | null {
  const where: string[] = [];
  if (filter.conversationIds) {
    if (filter.conversationIds.length === 0) return null;
    where.push(`AND mb.conversation_id IN (${placeholders(filter.conversationIds.length)})`);
    params.push(...filter.conversationIds);
  }
  if (filter.kinds && filter.kinds.length > 0) {
    where.push(`AND mb.conversation_id IN (SELECT id FROM conversations WHERE kind IN (${placeholders(filter.kinds.length)}))`);
    params.push(...filter.kinds);
  }
  return where;
}

/** Options for `openSqliteStore`. */
export interface SqliteStoreOptions {
  /** File path, or ':memory:' for a throwaway database. */
  filename: string;
}

/**
 * The SQLite store: one better-sqlite3 connection in WAL mode with foreign keys on. Its calls
 * are synchronous underneath, so each port method is naturally atomic; methods that write
 * several rows still wrap them in a transaction so a crash leaves nothing half-written.
 */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
  const db: Db = new Database(options.filename);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // SQLite's lower() folds ASCII only; searches must match "Émilie" as well as "emilie".
  db.function('ulower', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));
  return new SqliteStore(db);
}

/** Throws a `conflict` when a statement broke a UNIQUE constraint; re-throws anything else. */
function rethrowUnique(e: unknown, field: string, message: string): never {
  if (e instanceof Database.SqliteError && e.code.startsWith('SQLITE_CONSTRAINT_UNIQUE')) {
    throw conflict(field, message);
  }
  if (e instanceof Database.SqliteError && e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    throw conflict(field, message);
  }
  throw e;
}

class SqliteStore implements Store {
  // Statements on hot paths are prepared once (send, history page, unread, membership),
  // lazily because the tables exist only after migrate().
  private statements: Statements | null = null;

  /** Units of work of `transaction()`, committed in batches. */
  private readonly writer: GroupCommit<Store>;
  /** Set on the view a batch hands its units (it shares the connection): its calls pass the gate. */
  private isBatchView = false;
  /** While a batch is open: settles when it has committed or rolled back. */
  private batchDone: Promise<void> | null = null;

  constructor(private readonly db: Db) {
    this.writer = new GroupCommit<Store>({ open: async () => this.openBatch(), maxBatch: 256 });
    // One connection serves everybody, and a batch stays open across the awaits of its units:
    // a call from outside the batch made meanwhile would write into it (and be undone with a
    // failing unit) or read what is not committed yet. So every port method (they are the
    // async ones) called from outside the batch waits until it has ended. (Inside a unit of
    // work, a call on the store itself rather than on `tx` would wait for its own batch.)
    const root = this;
    for (const name of Object.getOwnPropertyNames(SqliteStore.prototype)) {
      const method = Object.getOwnPropertyDescriptor(SqliteStore.prototype, name)?.value as unknown;
      if (name === 'transaction' || typeof method !== 'function' || method.constructor.name !== 'AsyncFunction') continue;
      const call = method as (this: SqliteStore, ...args: unknown[]) => Promise<unknown>;
      Object.defineProperty(this, name, {
        configurable: true,
        writable: true,
        value: async function gated(this: SqliteStore, ...args: unknown[]): Promise<unknown> {
          if (!this.isBatchView) while (root.batchDone) await root.batchDone;
          return call.apply(this, args);
        },
      });
    }
  }

  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.isBatchView) return Promise.reject(new Error('store.transaction() does not nest'));
    return this.writer.run(work);
  }

  private openBatch() {
    const db = this.db;
    let done!: () => void;
    const ended = () => {
      this.batchDone = null;
      done();
    };
    const view = Object.create(this) as SqliteStore;
    view.isBatchView = true;
    return {
      view: view as Store,
      begin: async () => {
        while (this.batchDone) await this.batchDone;
        this.batchDone = new Promise<void>((resolve) => (done = resolve));
        this.prep('BEGIN IMMEDIATE').run();
      },
      savepoint: async () => void this.prep('SAVEPOINT unit').run(),
      release: async () => void this.prep('RELEASE unit').run(),
      rollbackToSavepoint: async () => {
        this.prep('ROLLBACK TO unit').run();
        this.prep('RELEASE unit').run();
      },
      commit: async () => {
        try {
          this.prep('COMMIT').run();
        } finally {
          if (!db.inTransaction) ended();
        }
      },
      abort: async () => {
        try {
          if (db.inTransaction) this.prep('ROLLBACK').run();
        } catch {
          // Nothing more to undo: SQLite rolled back by itself.
        }
        if (this.batchDone) ended();
      },
    };
  }

  private readonly cache = new Map<string, Database.Statement>();

  /** Prepares a statement once per distinct SQL text; every later call reuses it. */
  private prep(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  private get s(): Statements {
    this.statements ??= prepareStatements(this.db);
    return this.statements;
  }

  async migrate(): Promise<{ applied: string[] }> {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    const done = new Set(
      (this.prep('SELECT id FROM schema_migrations').all() as { id: string }[]).map((r) => r.id),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.prep('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run(m.id, Date.now());
      })();
      applied.push(m.id);
    }
    return { applied };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // ── users ────────────────────────────────────────────────────────────────
  async createUser(input: NewUser): Promise<User> {
    try {
      const row = this.prep(
          `INSERT INTO users (username, username_lower, display_name, email, avatar_url, password_hash, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(
          input.username,
          input.username.toLowerCase(),
          input.displayName,
          input.email,
          input.avatarUrl ?? null,
          input.passwordHash,
          ms(input.now),
        ) as UserRow;
      return toUser(row);
    } catch (e) {
      rethrowUnique(e, 'username', 'A user with that username already exists.');
    }
  }

  async getUser(id: UserId): Promise<User | null> {
    const row = this.s.getUser.get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async getUserByUsername(username: string): Promise<UserWithPassword | null> {
    const row = this.prep('SELECT * FROM users WHERE username_lower = ?').get(username.toLowerCase()) as
      | UserRow
      | undefined;
    return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
  }

  async getUsers(ids: readonly UserId[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const unique = [...new Set(ids)];
    const rows = this.prep(`SELECT * FROM users WHERE id IN (${placeholders(unique.length)})`).all(...unique) as UserRow[];
    return rows.map(toUser);
  }

  async searchUsers(query: string, limit: number): Promise<User[]> {
    const like = `%${likeEscape(query.toLowerCase())}%`;
    const rows = this.prep(
        `SELECT * FROM users
         WHERE is_active = 1 AND (ulower(username) LIKE @like ESCAPE '\\' OR ulower(display_name) LIKE @like ESCAPE '\\'
               OR ulower(email) LIKE @like ESCAPE '\\')
         ORDER BY username_lower LIMIT @limit`,
      )
      .all({ like, limit }) as UserRow[];
    return rows.map(toUser);
  }

  async updateUser(
    id: UserId,
    patch: Partial<Pick<User, 'displayName' | 'email' | 'avatarUrl' | 'isActive'>>,
  ): Promise<User | null> {
    const row = this.prep(
        `UPDATE users SET
           display_name = coalesce(?, display_name),
           email = coalesce(?, email),
           avatar_url = CASE WHEN ? THEN ? ELSE avatar_url END,
           is_active = coalesce(?, is_active)
         WHERE id = ? RETURNING *`,
      )
      .get(
        patch.displayName ?? null,
        patch.email ?? null,
        patch.avatarUrl !== undefined ? 1 : 0,
        patch.avatarUrl ?? null,
        patch.isActive === undefined ? null : patch.isActive ? 1 : 0,
        id,
      ) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async setPasswordHash(id: UserId, hash: string): Promise<void> {
    this.prep('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, id);
  }

  async getUserByExternalId(externalId: string): Promise<User | null> {
    const row = this.prep('SELECT * FROM users WHERE external_id = ?').get(externalId) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async upsertExternalUser(input: ExternalUserInput): Promise<User> {
    const ownerOf = (name: string): number | null =>
      (this.prep('SELECT id FROM users WHERE username_lower = ?').get(name.toLowerCase()) as { id: number } | undefined)?.id ?? null;
    const freeUsername = (selfId: number | null): string => {
      for (const candidate of usernameCandidates(input.username, input.externalId)) {
        const owner = ownerOf(candidate);
        if (owner === null || owner === selfId) return candidate;
      }
      throw conflict('username', 'No free username is left for this user.');
    };
    // IMMEDIATE takes the write lock before reading, so another process sharing the file
    // cannot provision the same external id between the read and the insert.
    const upsert = this.db.transaction((): User => {
      const row = this.prep('SELECT * FROM users WHERE external_id = ?').get(input.externalId) as UserRow | undefined;
      if (row) {
        const user = toUser(row);
        const patch = externalUserPatch(user, input, freeUsername(user.id));
        if (Object.keys(patch).length === 0) return user;
        const next = { ...user, ...patch };
        const updated = this.prep(
          `UPDATE users SET username = ?, username_lower = ?, display_name = ?, email = ?, avatar_url = ?
           WHERE id = ? RETURNING *`,
        ).get(next.username, next.username.toLowerCase(), next.displayName, next.email, next.avatarUrl, user.id) as UserRow;
        return toUser(updated);
      }
      const username = freeUsername(null);
      const created = this.prep(
        `INSERT INTO users (username, username_lower, display_name, email, avatar_url, password_hash, created_at, external_id)
         VALUES (?, ?, ?, ?, ?, NULL, ?, ?) RETURNING *`,
      ).get(
        username,
        username.toLowerCase(),
        input.displayName ?? username,
        input.email ?? '',
        input.avatarUrl ?? null,
        ms(input.now),
        input.externalId,
      ) as UserRow;
      return toUser(created);
    });
    // Almost every call is a known user with an unchanged profile: answer that without
    // taking the write lock.
    const known = this.prep('SELECT * FROM users WHERE external_id = ?').get(input.externalId) as UserRow | undefined;
    if (known) {
      const user = toUser(known);
      if (Object.keys(externalUserPatch(user, input, freeUsername(user.id))).length === 0) return user;
    }
    return upsert.immediate();
  }

  // ── tokens ───────────────────────────────────────────────────────────────
  async createToken(input: NewToken): Promise<void> {
    this.prep('INSERT INTO auth_tokens (token_hash, user_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(input.tokenHash, input.userId, input.kind, ms(input.now), input.expiresAt ? ms(input.expiresAt) : null);
  }

  async getUserByTokenHash(tokenHash: string, now: Date): Promise<User | null> {
    const row = this.s.userByToken.get(tokenHash, ms(now)) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async deleteToken(tokenHash: string): Promise<boolean> {
    return this.prep('DELETE FROM auth_tokens WHERE token_hash = ?').run(tokenHash).changes > 0;
  }

  // ── conversations ────────────────────────────────────────────────────────
  async createConversation(input: NewConversation): Promise<Conversation> {
    const t = ms(input.now);
    const create = this.db.transaction((): ConversationRow => {
      const row = this.prep(
          `INSERT INTO conversations (kind, title, object_key, dm_key, is_public, created_by, created_at, updated_at, last_activity_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(input.kind, input.title, input.objectKey, input.dmKey, input.isPublic ? 1 : 0, input.createdBy, t, t, t) as ConversationRow;
      const add = this.s.addMember;
      for (const m of input.members) add.run(row.id, m.userId, m.role, t, 0, 0, 0);
      if (input.metadata != null) {
        return this.prep('UPDATE conversations SET metadata = ? WHERE id = ? RETURNING *').get(JSON.stringify(input.metadata), row.id) as ConversationRow;
      }
      return row;
    });
    try {
      return toConversation(create());
    } catch (e) {
      rethrowUnique(e, input.dmKey ? 'member_ids' : 'object', 'That conversation already exists.');
    }
  }

  async getConversation(id: ConversationId): Promise<Conversation | null> {
    const row = this.s.getConversation.get(id) as ConversationRow | undefined;
    return row ? toConversation(row) : null;
  }

  async getConversationByDmKey(key: string): Promise<Conversation | null> {
    const row = this.prep('SELECT * FROM conversations WHERE dm_key = ?').get(key) as ConversationRow | undefined;
    return row ? toConversation(row) : null;
  }

  async getConversationByObjectKey(key: string): Promise<Conversation | null> {
    const row = this.prep('SELECT * FROM conversations WHERE object_key = ?').get(key) as
      | ConversationRow
      | undefined;
    return row ? toConversation(row) : null;
  }

  async updateConversation(
    id: ConversationId,
    patch: { title?: string | null; isPublic?: boolean; metadata?: Metadata | null },
    now: Date,
  ): Promise<Conversation | null> {
    const row = this.prep(
        `UPDATE conversations SET
           title = CASE WHEN ? THEN ? ELSE title END,
           is_public = coalesce(?, is_public),
           metadata = CASE WHEN ? THEN ? ELSE metadata END,
           updated_at = ?
         WHERE id = ? RETURNING *`,
      )
      .get(
        patch.title !== undefined ? 1 : 0,
        patch.title ?? null,
        patch.isPublic === undefined ? null : patch.isPublic ? 1 : 0,
        patch.metadata !== undefined ? 1 : 0,
        patch.metadata == null ? null : JSON.stringify(patch.metadata),
        ms(now),
        id,
      ) as ConversationRow | undefined;
    return row ? toConversation(row) : null;
  }

  async deleteConversation(id: ConversationId): Promise<boolean> {
    return this.db.transaction((): boolean => {
      // Its logged events go too, so nothing of it can be replayed to anyone later.
      this.prep('DELETE FROM events WHERE conversation_id = ? AND targeted = 0').run(id);
      return this.prep('DELETE FROM conversations WHERE id = ?').run(id).changes > 0;
    })();
  }

  async listConversations(
    userId: UserId,
    query: ConversationQuery,
  ): Promise<{ total: number; items: Conversation[] }> {
    const where: string[] = ['mb.user_id = ?'];
    const params: unknown[] = [userId];
    if (query.kinds && query.kinds.length > 0) {
      where.push(`c.kind IN (${placeholders(query.kinds.length)})`);
      params.push(...query.kinds);
    }
    if (query.search) {
      const like = `%${likeEscape(query.search.toLowerCase())}%`;
      where.push(`(ulower(coalesce(c.title, '')) LIKE ? ESCAPE '\\' OR EXISTS (
        SELECT 1 FROM members m2 JOIN users u ON u.id = m2.user_id
        WHERE m2.conversation_id = c.id AND m2.user_id != ? AND (ulower(u.username) LIKE ? ESCAPE '\\' OR ulower(u.display_name) LIKE ? ESCAPE '\\')))`);
      params.push(like, userId, like, like);
    }
    const from = `FROM conversations c JOIN members mb ON mb.conversation_id = c.id WHERE ${where.join(' AND ')}`;
    const total = (this.prep(`SELECT count(*) AS n ${from}`).get(...params) as { n: number }).n;
    const pageWhere: string[] = [];
    const pageParams = [...params];
    if (query.after) {
      pageWhere.push('AND (c.last_activity_at < ? OR (c.last_activity_at = ? AND c.id < ?))');
      pageParams.push(ms(query.after.lastActivityAt), ms(query.after.lastActivityAt), query.after.id);
    }
    pageParams.push(query.limit, query.offset ?? 0);
    const rows = this.prep(`SELECT c.* ${from} ${pageWhere.join(' ')} ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ? OFFSET ?`)
      .all(...pageParams) as ConversationRow[];
    return { total, items: rows.map(toConversation) };
  }

  // ── members ──────────────────────────────────────────────────────────────
  async getMember(conversationId: ConversationId, userId: UserId): Promise<Member | null> {
    const row = this.s.getMember.get(conversationId, userId) as MemberRow | undefined;
    return row ? toMember(row) : null;
  }

  async listMembers(conversationId: ConversationId): Promise<Member[]> {
    return (this.s.listMembers.all(conversationId) as MemberRow[]).map(toMember);
  }

  async listMembersOf(conversationIds: readonly ConversationId[]): Promise<Member[]> {
    if (conversationIds.length === 0) return [];
    const rows = this.prep(
        `SELECT * FROM members WHERE conversation_id IN (${placeholders(conversationIds.length)})
         ORDER BY conversation_id, joined_at, user_id`,
      )
      .all(...conversationIds) as MemberRow[];
    return rows.map(toMember);
  }

  async countMembers(conversationId: ConversationId): Promise<number> {
    return (this.prep('SELECT count(*) AS n FROM members WHERE conversation_id = ?').get(conversationId) as { n: number }).n;
  }

  async addMembers(
    conversationId: ConversationId,
    members: readonly { userId: UserId; role: MemberRole }[],
    now: Date,
  ): Promise<UserId[]> {
    return this.db.transaction((): UserId[] => {
      const conv = this.s.getConversation.get(conversationId) as ConversationRow | undefined;
      if (!conv) return [];
      const added: UserId[] = [];
      for (const m of members) {
        const r = this.s.addMember.run(conversationId, m.userId, m.role, ms(now), conv.last_seq, conv.last_seq, conv.last_seq);
        if (r.changes > 0) added.push(m.userId);
      }
      return added;
    })();
  }

  async removeMember(conversationId: ConversationId, userId: UserId): Promise<boolean> {
    return this.prep('DELETE FROM members WHERE conversation_id = ? AND user_id = ?').run(conversationId, userId).changes > 0;
  }

  async setMemberRole(conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<boolean> {
    return (
      this.prep('UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?').run(role, conversationId, userId)
        .changes > 0
    );
  }

  // ── messages ─────────────────────────────────────────────────────────────
  async insertMessage(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    const s = this.s;
    const t = ms(input.now);
    return this.db.transaction((): { message: Message; created: boolean } => {
      if (input.clientId !== null) {
        const existing = s.messageByClientId.get(input.conversationId, input.senderId, input.clientId) as
          | MessageRow
          | undefined;
        if (existing) return { message: toMessage(existing), created: false };
      }
      const { last_seq: seq } = s.bumpSeq.get(t, input.conversationId) as { last_seq: number };
      const row = s.insertMessage.get(
        input.conversationId,
        seq,
        input.senderId,
        input.content,
        input.parentId,
        input.clientId,
        t,
        t,
      ) as MessageRow;
      s.senderCursor.run(seq, t, seq, t, input.conversationId, input.senderId);
      let linked = this.linkAttachments(row, input, t);
      if (input.metadata != null) {
        linked = this.prep('UPDATE messages SET metadata = ? WHERE id = ? RETURNING *').get(JSON.stringify(input.metadata), row.id) as MessageRow;
      }
      return { message: toMessage(linked), created: true };
    })();
  }

  /** The attachment part of `insertMessage`, inside its transaction (a throw undoes the send). */
  private linkAttachments(row: MessageRow, input: NewMessage, t: number): MessageRow {
    let out = row;
    if (input.forwardedFromId != null) {
      out = this.prep('UPDATE messages SET forwarded_from_id = ? WHERE id = ? RETURNING *').get(input.forwardedFromId, row.id) as MessageRow;
    }
    const ids = [...new Set(input.attachmentIds ?? [])];
    if (ids.length > 0) {
      const changed = this.prep(`UPDATE attachments SET message_id = ? WHERE message_id IS NULL AND uploader_id = ? AND id IN (${placeholders(ids.length)})`)
        .run(row.id, input.senderId, ...ids).changes;
      if (changed !== ids.length) throw invalid('attachment_ids', 'Attach only your own uploads that are not attached to a message yet.');
    }
    for (const m of input.media ?? []) {
      this.prep(
        `INSERT INTO attachments (uploader_id, message_id, storage_key, thumbnail_key, name, size, mime_type, media_type, width, height, external_url, metadata, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(input.senderId, row.id, m.storageKey, m.thumbnailKey, m.name, m.size, m.mimeType, m.mediaType, m.width, m.height, m.externalUrl, m.metadata === null ? null : JSON.stringify(m.metadata), t);
    }
    return out;
  }

  async getMessage(id: MessageId): Promise<Message | null> {
    const row = this.s.getMessage.get(id) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  private messageWhere(conversationId: ConversationId, q: MessageFilter): { sql: string; params: unknown[] } {
    const where = [
      'm.conversation_id = ?',
      'NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.user_id = ? AND h.message_id = m.id)',
      NOT_BLOCKED,
    ];
    const params: unknown[] = [conversationId, q.viewerId, q.viewerId];
    if (!q.includeDeleted) where.push('m.deleted_at IS NULL');
    if (q.beforeSeq !== undefined) {
      where.push('m.seq < ?');
      params.push(q.beforeSeq);
    }
    if (q.afterSeq !== undefined) {
      where.push('m.seq > ?');
      params.push(q.afterSeq);
    }
    return { sql: where.join(' AND '), params };
  }

  async listMessages(conversationId: ConversationId, query: MessageQuery): Promise<Message[]> {
    const { sql, params } = this.messageWhere(conversationId, query);
    const rows = this.prep(`SELECT m.* FROM messages m WHERE ${sql} ORDER BY m.seq ${query.newestFirst ? 'DESC' : 'ASC'} LIMIT ? OFFSET ?`)
      .all(...params, query.limit, query.offset ?? 0) as MessageRow[];
    return rows.map(toMessage);
  }

  async countMessages(conversationId: ConversationId, query: MessageFilter): Promise<number> {
    const { sql, params } = this.messageWhere(conversationId, query);
    return (this.prep(`SELECT count(*) AS n FROM messages m WHERE ${sql}`).get(...params) as { n: number }).n;
  }

  async lastMessages(conversationIds: readonly ConversationId[], viewerId: UserId): Promise<Map<ConversationId, Message>> {
    const out = new Map<ConversationId, Message>();
    for (const id of conversationIds) {
      const row = this.s.lastMessage.get(id, viewerId, viewerId) as MessageRow | undefined;
      if (row) out.set(id, toMessage(row));
    }
    return out;
  }

  async updateMessageContent(id: MessageId, content: string, now: Date, metadata?: Metadata | null): Promise<Message | null> {
    const row = this.prep('UPDATE messages SET content = ?, updated_at = ?, edited_at = ?, metadata = CASE WHEN ? THEN ? ELSE metadata END WHERE id = ? RETURNING *')
      .get(content, ms(now), ms(now), metadata !== undefined ? 1 : 0, metadata == null ? null : JSON.stringify(metadata), id) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async softDeleteMessage(id: MessageId, now: Date): Promise<Message | null> {
    const row = this.prep('UPDATE messages SET deleted_at = coalesce(deleted_at, ?), updated_at = ? WHERE id = ? RETURNING *')
      .get(ms(now), ms(now), id) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async hardDeleteMessage(id: MessageId): Promise<boolean> {
    return this.prep('DELETE FROM messages WHERE id = ?').run(id).changes > 0;
  }

  async hideMessage(messageId: MessageId, userId: UserId, now: Date): Promise<void> {
    this.prep('INSERT OR IGNORE INTO message_hides (message_id, user_id, hidden_at) SELECT id, ?, ? FROM messages WHERE id = ?')
      .run(userId, ms(now), messageId);
  }

  // ── reactions ────────────────────────────────────────────────────────────
  async toggleReaction(messageId: MessageId, userId: UserId, emoji: string, now: Date): Promise<'added' | 'removed'> {
    return this.db.transaction((): 'added' | 'removed' => {
      const removed = this.prep('DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?')
        .run(messageId, userId, emoji).changes;
      if (removed > 0) return 'removed';
      this.prep('INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)')
        .run(messageId, userId, emoji, ms(now));
      return 'added';
    })();
  }

  async listReactions(messageIds: readonly MessageId[]): Promise<ReactionRow[]> {
    if (messageIds.length === 0) return [];
    const rows = this.prep(
        `SELECT * FROM reactions WHERE message_id IN (${placeholders(messageIds.length)})
         ORDER BY created_at, message_id, user_id`,
      )
      .all(...messageIds) as { message_id: number; user_id: number; emoji: string; created_at: number }[];
    return rows.map((r) => ({ messageId: r.message_id, userId: r.user_id, emoji: r.emoji, createdAt: new Date(r.created_at) }));
  }

  // ── cursors ──────────────────────────────────────────────────────────────
  private advance(
    column: 'read' | 'delivered',
    conversationId: ConversationId,
    userId: UserId,
    uptoSeq: number,
    now: Date,
  ): CursorMove | null {
    const seqCol = column === 'read' ? 'last_read_seq' : 'last_delivered_seq';
    const atCol = column === 'read' ? 'read_at' : 'delivered_at';
    return this.db.transaction((): CursorMove | null => {
      const cur = this.prep(
          `SELECT mb.${seqCol} AS seq, c.last_seq AS last FROM members mb JOIN conversations c ON c.id = mb.conversation_id
           WHERE mb.conversation_id = ? AND mb.user_id = ?`,
        )
        .get(conversationId, userId) as { seq: number; last: number } | undefined;
      if (!cur) return null;
      const target = Math.min(uptoSeq, cur.last);
      if (target <= cur.seq) return { before: cur.seq, after: cur.seq };
      this.prep(`UPDATE members SET ${seqCol} = ?, ${atCol} = ? WHERE conversation_id = ? AND user_id = ?`)
        .run(target, ms(now), conversationId, userId);
      return { before: cur.seq, after: target };
    })();
  }

  async advanceReadCursor(conversationId: ConversationId, userId: UserId, uptoSeq: number, now: Date): Promise<CursorMove | null> {
    return this.advance('read', conversationId, userId, uptoSeq, now);
  }

  async advanceDeliveryCursor(
    conversationId: ConversationId,
    userId: UserId,
    uptoSeq: number,
    now: Date,
  ): Promise<CursorMove | null> {
    return this.advance('delivered', conversationId, userId, uptoSeq, now);
  }

  async countUnread(userId: UserId, filter: UnreadFilter = {}): Promise<Map<ConversationId, number>> {
    const params: unknown[] = [userId, userId, userId, userId];
    const where = unreadWhere(params, filter);
    if (!where) return new Map();
    const rows = this.prep(
        `SELECT mb.conversation_id AS id, count(*) AS n
         FROM members mb JOIN messages m ON m.conversation_id = mb.conversation_id AND m.seq > mb.last_read_seq
         WHERE mb.user_id = ? AND m.sender_id != ? AND m.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.user_id = ? AND h.message_id = m.id)
           AND ${NOT_BLOCKED}
           ${where.join(' ')}
         GROUP BY mb.conversation_id`,
      )
      .all(...params) as { id: number; n: number }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  async countFromOthers(conversationId: ConversationId, userId: UserId, fromSeq: number, toSeq: number): Promise<number> {
    return (
      this.prep(
          `SELECT count(*) AS n FROM messages m
           WHERE m.conversation_id = ? AND m.seq > ? AND m.seq <= ? AND m.sender_id != ? AND m.deleted_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.user_id = ? AND h.message_id = m.id)
             AND ${NOT_BLOCKED}`,
        )
        .get(conversationId, fromSeq, toSeq, userId, userId, userId) as { n: number }
    ).n;
  }

  async listMembershipsOf(userId: UserId): Promise<Member[]> {
    return (this.s.membershipsOf.all(userId) as MemberRow[]).map(toMember);
  }

  async listContactsOf(userId: UserId): Promise<UserId[]> {
    const rows = this.prep(
        `SELECT DISTINCT o.user_id AS id FROM members mine JOIN members o ON o.conversation_id = mine.conversation_id
         WHERE mine.user_id = ? AND o.user_id != ?`,
      )
      .all(userId, userId) as { id: number }[];
    return rows.map((r) => r.id);
  }

  async listFromOthers(conversationId: ConversationId, userId: UserId, fromSeq: number, toSeq: number, limit: number): Promise<Message[]> {
    const rows = this.prep(
        `SELECT m.* FROM messages m
         WHERE m.conversation_id = ? AND m.seq > ? AND m.seq <= ? AND m.sender_id != ? AND m.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.user_id = ? AND h.message_id = m.id)
           AND ${NOT_BLOCKED}
         ORDER BY m.seq LIMIT ?`,
      )
      .all(conversationId, fromSeq, toSeq, userId, userId, userId, limit) as MessageRow[];
    return rows.map(toMessage);
  }

  async listSeqRange(conversationId: ConversationId, fromSeq: number, toSeq: number, limit: number): Promise<Message[]> {
    const rows = this.prep('SELECT * FROM messages WHERE conversation_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?')
      .all(conversationId, fromSeq, toSeq, limit) as MessageRow[];
    return rows.map(toMessage);
  }

  async setLastSeen(userId: UserId, at: Date): Promise<void> {
    this.prep('UPDATE users SET last_seen_at = ? WHERE id = ?').run(ms(at), userId);
  }

  async getLastSeen(userIds: readonly UserId[]): Promise<Map<UserId, Date>> {
    if (userIds.length === 0) return new Map();
    const rows = this.prep(`SELECT id, last_seen_at FROM users WHERE last_seen_at IS NOT NULL AND id IN (${placeholders(userIds.length)})`)
      .all(...userIds) as { id: number; last_seen_at: number }[];
    return new Map(rows.map((r) => [r.id, new Date(r.last_seen_at)]));
  }

  // ── event log ────────────────────────────────────────────────────────────
  async appendEvent(input: NewEvent): Promise<StoredEvent> {
    const s = this.s;
    return this.db.transaction((): StoredEvent => {
      const row = s.appendEvent.get(input.conversationId, input.type, input.payload, input.recipients ? 1 : 0, ms(input.now)) as EventRow;
      if (input.recipients) for (const u of new Set(input.recipients)) s.addRecipient.run(row.id, u);
      return toEvent(row);
    })();
  }

  async listEventsFor(userId: UserId, afterId: number, limit: number): Promise<StoredEvent[]> {
    return (this.s.eventsFor.all({ after: afterId, user: userId, limit }) as EventRow[]).map(toEvent);
  }

  async eventLogBounds(): Promise<{ oldest: number; newest: number }> {
    const r = this.prep('SELECT min(id) AS oldest, max(id) AS newest FROM events').get() as { oldest: number | null; newest: number | null };
    if (r.newest !== null && r.oldest !== null) return { oldest: r.oldest, newest: r.newest };
    const seq = this.prep("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
    return { oldest: 0, newest: seq?.seq ?? 0 };
  }

  async pruneEvents(before: Date): Promise<number> {
    return this.prep('DELETE FROM events WHERE created_at < ?').run(ms(before)).changes;
  }

  // ── webhook outbox (src/store/sqlite/webhook-outbox.ts) ────────────────────
  private outboxImpl: SqliteWebhookOutbox | null = null;
  private get outbox(): SqliteWebhookOutbox {
    this.outboxImpl ??= new SqliteWebhookOutbox(this.db);
    return this.outboxImpl;
  }

  async enqueueWebhookDeliveries(input: readonly NewWebhookDelivery[], now: Date): Promise<WebhookDelivery[]> {
    return this.outbox.enqueue(input, now);
  }

  async claimWebhookDeliveries(now: Date, leaseUntil: Date, limit: number): Promise<WebhookDelivery[]> {
    return this.outbox.claim(now, leaseUntil, limit);
  }

  async recordWebhookAttempt(claimed: WebhookClaim, outcome: WebhookAttemptOutcome, now: Date): Promise<WebhookDelivery | null> {
    return this.outbox.record(claimed, outcome, now);
  }

  async getWebhookDelivery(id: number): Promise<WebhookDelivery | null> {
    return this.outbox.get(id);
  }

  async listWebhookDeliveries(query: { status?: WebhookDeliveryStatus; limit: number }): Promise<WebhookDelivery[]> {
    return this.outbox.list(query);
  }

  async retryWebhookDelivery(id: number, now: Date): Promise<WebhookDelivery | null> {
    return this.outbox.retry(id, now);
  }

  // ── attachments ──────────────────────────────────────────────────────────
  async insertAttachment(a: NewAttachment): Promise<Attachment> {
    const row = this.prep(
      `INSERT INTO attachments (uploader_id, message_id, storage_key, thumbnail_key, name, size, mime_type, media_type, width, height, external_url, metadata, created_at)
       VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(a.uploaderId, a.storageKey, a.thumbnailKey, a.name, a.size, a.mimeType, a.mediaType, a.width, a.height, a.externalUrl, a.metadata === null ? null : JSON.stringify(a.metadata), ms(a.now)) as AttachmentRow;
    return toAttachment(row);
  }

  async getAttachment(id: AttachmentId): Promise<Attachment | null> {
    const row = this.prep('SELECT * FROM attachments WHERE id = ?').get(id) as AttachmentRow | undefined;
    return row ? toAttachment(row) : null;
  }

  async listAttachments(messageIds: readonly MessageId[]): Promise<Attachment[]> {
    if (messageIds.length === 0) return [];
    const rows = this.prep(`SELECT * FROM attachments WHERE message_id IN (${placeholders(messageIds.length)}) ORDER BY id`)
      .all(...messageIds) as AttachmentRow[];
    return rows.map(toAttachment);
  }

  async listConversationAttachments(conversationId: ConversationId): Promise<Attachment[]> {
    const rows = this.prep(
      'SELECT a.* FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = ? ORDER BY a.id',
    ).all(conversationId) as AttachmentRow[];
    return rows.map(toAttachment);
  }

  async listUnattached(before: Date, limit: number): Promise<Attachment[]> {
    const rows = this.prep('SELECT * FROM attachments WHERE message_id IS NULL AND created_at < ? ORDER BY created_at, id LIMIT ?').all(
      ms(before),
      limit,
    ) as AttachmentRow[];
    return rows.map(toAttachment);
  }

  async deleteAttachments(ids: readonly AttachmentId[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.prep(`DELETE FROM attachments WHERE id IN (${placeholders(ids.length)})`).run(...ids).changes;
  }

  async attachmentUsage(): Promise<AttachmentUsage> {
    const r = this.prep(
      `SELECT count(*) AS files, coalesce(sum(size), 0) AS bytes,
              coalesce(sum(CASE WHEN message_id IS NULL THEN 1 ELSE 0 END), 0) AS unattached_files,
              coalesce(sum(CASE WHEN message_id IS NULL THEN size ELSE 0 END), 0) AS unattached_bytes
       FROM attachments WHERE storage_key IS NOT NULL`,
    ).get() as { files: number; bytes: number; unattached_files: number; unattached_bytes: number };
    return { files: r.files, bytes: r.bytes, unattachedFiles: r.unattached_files, unattachedBytes: r.unattached_bytes };
  }

  // ── blocks and mutes ─────────────────────────────────────────────────────
  async blockUser(blockerId: UserId, blockedId: UserId, now: Date): Promise<boolean> {
    return this.prep('INSERT OR IGNORE INTO user_blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)').run(blockerId, blockedId, ms(now)).changes > 0;
  }

  async unblockUser(blockerId: UserId, blockedId: UserId): Promise<boolean> {
    return this.prep('DELETE FROM user_blocks WHERE blocker_id = ? AND blocked_id = ?').run(blockerId, blockedId).changes > 0;
  }

  async listBlocked(blockerId: UserId): Promise<BlockRow[]> {
    const rows = this.prep('SELECT blocked_id, created_at FROM user_blocks WHERE blocker_id = ? ORDER BY created_at, blocked_id').all(blockerId) as {
      blocked_id: number;
      created_at: number;
    }[];
    return rows.map((r) => ({ blockedId: r.blocked_id, createdAt: new Date(r.created_at) }));
  }

  async listBlockersOf(blockedId: UserId, among: readonly UserId[]): Promise<UserId[]> {
    if (among.length === 0) return [];
    // Few users block any one user: read them all and intersect, rather than binding a list
    // as long as a room's membership.
    const rows = this.prep('SELECT blocker_id FROM user_blocks WHERE blocked_id = ?').all(blockedId) as { blocker_id: number }[];
    if (rows.length === 0) return [];
    const wanted = new Set(among);
    return rows.map((r) => r.blocker_id).filter((id) => wanted.has(id));
  }

  async setMute(conversationId: ConversationId, userId: UserId, until: Date | null, now: Date): Promise<boolean> {
    return (
      this.prep(
        `INSERT INTO conversation_mutes (conversation_id, user_id, muted_until, created_at)
         SELECT conversation_id, user_id, ?, ? FROM members WHERE conversation_id = ? AND user_id = ?
         ON CONFLICT (user_id, conversation_id) DO UPDATE SET muted_until = excluded.muted_until, created_at = excluded.created_at`,
      ).run(until ? ms(until) : null, ms(now), conversationId, userId).changes > 0
    );
  }

  async clearMute(conversationId: ConversationId, userId: UserId): Promise<boolean> {
    return this.prep('DELETE FROM conversation_mutes WHERE conversation_id = ? AND user_id = ?').run(conversationId, userId).changes > 0;
  }

  async listMutes(userId: UserId, conversationIds?: readonly ConversationId[]): Promise<MuteRow[]> {
    if (conversationIds && conversationIds.length === 0) return [];
    const only = conversationIds ? ` AND conversation_id IN (${placeholders(conversationIds.length)})` : '';
    const rows = this.prep(`SELECT * FROM conversation_mutes WHERE user_id = ?${only} ORDER BY conversation_id`)
      .all(userId, ...(conversationIds ?? [])) as { conversation_id: number; user_id: number; muted_until: number | null; created_at: number }[];
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      userId: r.user_id,
      until: r.muted_until === null ? null : new Date(r.muted_until),
      createdAt: new Date(r.created_at),
    }));
  }

  // ── search ───────────────────────────────────────────────────────────────
  async searchMessages(userId: UserId, terms: readonly SearchTerm[], limit: number): Promise<SearchHit[]> {
    const match = toFtsQuery(terms);
    if (match === '') return [];
    const rows = this.prep(
        `SELECT m.*, snippet(messages_fts, 0, ?, ?, '…', 16) AS snip, bm25(messages_fts) AS rank
         FROM messages_fts
         JOIN messages m ON m.id = messages_fts.rowid
         JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?
         WHERE messages_fts MATCH ? AND m.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.user_id = ? AND h.message_id = m.id)
           AND ${NOT_BLOCKED}
         ORDER BY rank, m.id DESC
         LIMIT ?`,
      )
      .all(MATCH_START, MATCH_END, userId, match, userId, userId, limit) as (MessageRow & { snip: string; rank: number })[];
    return rows.map((r) => ({ message: toMessage(r), highlighted: markedSnippetToHtml(r.snip), rank: -r.rank }));
  }

  // ── read marks ───────────────────────────────────────────────────────────
  async recordRead(conversationId: ConversationId, userId: UserId, uptoSeq: number, now: Date): Promise<CursorMove | null> {
    return this.db.transaction((): CursorMove | null => {
      const cur = this.prep(
          `SELECT max(mb.joined_seq, coalesce((SELECT max(r.upto_seq) FROM read_marks r WHERE r.conversation_id = mb.conversation_id AND r.user_id = mb.user_id), 0)) AS seq,
                  c.last_seq AS last
           FROM members mb JOIN conversations c ON c.id = mb.conversation_id
           WHERE mb.conversation_id = ? AND mb.user_id = ?`,
        )
        .get(conversationId, userId) as { seq: number; last: number } | undefined;
      if (!cur) return null;
      const target = Math.min(uptoSeq, cur.last);
      if (target <= cur.seq) return { before: cur.seq, after: cur.seq };
      this.prep('INSERT INTO read_marks (conversation_id, user_id, from_seq, upto_seq, read_at) VALUES (?, ?, ?, ?, ?)')
        .run(conversationId, userId, cur.seq, target, ms(now));
      return { before: cur.seq, after: target };
    })();
  }

  async listReadMarks(conversationId: ConversationId, userId: UserId, fromSeq: number, toSeq: number): Promise<ReadMark[]> {
    const rows = this.prep(
        `SELECT from_seq, upto_seq, read_at FROM read_marks
         WHERE conversation_id = ? AND user_id = ? AND upto_seq > ? AND from_seq < ? ORDER BY upto_seq`,
      )
      .all(conversationId, userId, fromSeq, toSeq) as { from_seq: number; upto_seq: number; read_at: number }[];
    return rows.map((r) => ({ fromSeq: r.from_seq, uptoSeq: r.upto_seq, readAt: new Date(r.read_at) }));
  }

  async countUnreadByMark(userId: UserId, filter: UnreadFilter = {}): Promise<Map<ConversationId, number>> {
    const params: unknown[] = [userId, userId, userId, userId];
    const where = unreadWhere(params, filter);
    if (!where) return new Map();
    const rows = this.prep(
        `SELECT mb.conversation_id AS id, count(*) AS n
         FROM members mb JOIN messages m ON m.conversation_id = mb.conversation_id
           AND m.seq > max(mb.joined_seq, coalesce((SELECT max(r.upto_seq) FROM read_marks r WHERE r.conversation_id = mb.conversation_id AND r.user_id = mb.user_id), 0))
         WHERE mb.user_id = ? AND m.sender_id != ? AND m.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.user_id = ? AND h.message_id = m.id)
           AND ${NOT_BLOCKED}
           ${where.join(' ')}
         GROUP BY mb.conversation_id`,
      )
      .all(...params) as { id: number; n: number }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  // ── operations: export/import, backups, admin listings ────────────────────
  async countRows(table: PortableTable): Promise<number> {
    return sqliteCountRows(this.db, table);
  }

  async exportRows(table: PortableTable, after: PortableRow | null, limit: number): Promise<PortableRow[]> {
    return sqliteExportRows(this.db, table, after, limit);
  }

  async importRows(table: PortableTable, rows: readonly PortableRow[]): Promise<number> {
    return sqliteImportRows(this.db, table, rows);
  }

  async finishImport(): Promise<void> {
    // AUTOINCREMENT keeps the highest inserted id in sqlite_sequence by itself.
  }

  async listTokens(userId: UserId | null): Promise<TokenInfo[]> {
    return sqliteListTokens(this.db, userId);
  }

  async backup(file: string): Promise<BackupResult> {
    if (this.db.memory) throw invalid('database', 'An in-memory database cannot be backed up.');
    await this.db.backup(file);
    return { written: file };
  }

  async getTokenInfo(tokenHash: string): Promise<TokenInfo | null> {
    return sqliteTokenInfo(this.db, tokenHash);
  }
}

/** Builds an FTS5 query from parsed terms; every word is quoted so no user input is syntax. */
function toFtsQuery(terms: readonly SearchTerm[]): string {
  return terms
    .filter((t) => t.words.length > 0)
    .map((t) => `"${t.words.join(' ').replaceAll('"', '""')}"${t.prefix ? '*' : ''}`)
    .join(' ');
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(db: Db) {
  return {
    getUser: db.prepare('SELECT * FROM users WHERE id = ?'),
    userByToken: db.prepare(
      `SELECT u.* FROM auth_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = ? AND u.is_active = 1 AND (t.expires_at IS NULL OR t.expires_at > ?)`,
    ),
    getConversation: db.prepare('SELECT * FROM conversations WHERE id = ?'),
    getMember: db.prepare('SELECT * FROM members WHERE conversation_id = ? AND user_id = ?'),
    listMembers: db.prepare('SELECT * FROM members WHERE conversation_id = ? ORDER BY joined_at, user_id'),
    addMember: db.prepare(
      `INSERT INTO members (conversation_id, user_id, role, joined_at, joined_seq, last_read_seq, last_delivered_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    messageByClientId: db.prepare('SELECT * FROM messages WHERE conversation_id = ? AND sender_id = ? AND client_id = ?'),
    bumpSeq: db.prepare(
      'UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = ? WHERE id = ? RETURNING last_seq',
    ),
    insertMessage: db.prepare(
      `INSERT INTO messages (conversation_id, seq, sender_id, content, parent_id, client_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    senderCursor: db.prepare(
      `UPDATE members SET last_read_seq = max(last_read_seq, ?), read_at = ?,
                          last_delivered_seq = max(last_delivered_seq, ?), delivered_at = ?
       WHERE conversation_id = ? AND user_id = ?`,
    ),
    getMessage: db.prepare('SELECT * FROM messages WHERE id = ?'),
    membershipsOf: db.prepare('SELECT * FROM members WHERE user_id = ? ORDER BY joined_at, conversation_id'),
    appendEvent: db.prepare(
      'INSERT INTO events (conversation_id, type, payload, targeted, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
    ),
    addRecipient: db.prepare('INSERT OR IGNORE INTO event_recipients (event_id, user_id) VALUES (?, ?)'),
    eventsFor: db.prepare(
      `SELECT e.* FROM events e
       WHERE e.id > @after AND (
         (e.targeted = 0 AND e.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = @user))
         OR (e.targeted = 1 AND EXISTS (SELECT 1 FROM event_recipients r WHERE r.user_id = @user AND r.event_id = e.id)))
       ORDER BY e.id LIMIT @limit`,
    ),
    lastMessage: db.prepare(
      `SELECT m.* FROM messages m
       WHERE m.conversation_id = ? AND m.deleted_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.user_id = ? AND h.message_id = m.id)
         AND ${NOT_BLOCKED}
       ORDER BY m.seq DESC LIMIT 1`,
    ),
  };
}
