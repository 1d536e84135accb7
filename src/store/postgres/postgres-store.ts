import pg from 'pg';
import type { CustomTypesConfig, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { ParleyError, conflict, invalid } from '../../core/errors.js';
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
import { type AttachmentRow, attachmentColumns, toAttachment } from './attachment-rows.js';
import { PostgresWebhookOutbox } from './webhook-outbox.js';
import type { BackupResult, PortableRow, PortableTable, TokenInfo } from '../../core/ports/store.js';
import { pgCountRows, pgExportRows, pgFinishImport, pgImportRows, pgListTokens, pgTokenInfo } from './portable-rows.js';
import type { NewWebhookDelivery, WebhookAttemptOutcome, WebhookClaim, WebhookDelivery, WebhookDeliveryStatus } from '../../core/ports/store.js';
import {
  type ConversationRow,
  type EventRow,
  type MemberRow,
  type MessageRow,
  type ReactionDbRow,
  type UserRow,
  conversationColumns,
  eventColumns,
  memberColumns,
  messageColumns,
  toConversation,
  toEvent,
  toMember,
  toMessage,
  toReaction,
  toUser,
  userColumns,
} from './rows.js';

/** Options for `openPostgresStore`. */
export interface PostgresStoreOptions {
  /** A libpq-style URL, e.g. `postgres://parley:secret@db:5432/parley`. */
  connectionString: string;
  /** Schema holding every table (created by `migrate()` if missing); the server default otherwise. */
  schema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in `pg_stat_activity` (default `parley`). */
  applicationName?: string;
}

/**
 * The PostgreSQL store: a `pg.Pool`, one transaction per port method that writes several rows,
 * named (server-side prepared) statements on the hot paths.
 *
 * ```ts
 * const store = openPostgresStore({ connectionString: process.env.DATABASE_URL!, schema: 'parley' });
 * await store.migrate();
 * ```
 */
export function openPostgresStore(options: PostgresStoreOptions): Store {
  const schema = options.schema;
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ParleyError('validation', 'The PostgreSQL schema name must be a plain identifier.', {
      schema: ['letters, digits and underscores, not starting with a digit, at most 63'],
    });
  }
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new ParleyError('validation', 'The PostgreSQL pool size must be a positive integer.', { poolSize: ['must be ≥ 1'] });
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    types: int8AsNumber,
    application_name: options.applicationName ?? 'parley',
    // Awaited before the connection is handed out. SET rather than a startup `options`
    // parameter, which an `options=` in the connection string would silently replace.
    ...(schema !== undefined ? { onConnect: (client) => client.query(`SET search_path TO ${quoteIdent(schema)}`) } : {}),
  });
  // An idle connection that dies (server restart) is dropped by the pool; the next query
  // opens a new one. Without a listener the 'error' event would crash the process.
  pool.on('error', () => {});
  return new PostgresStore(pool, schema);
}

// ── driver plumbing ─────────────────────────────────────────────────────────

// Ids, seqs and counts are int8; they stay far below 2^53, so plain numbers are exact.
const int8AsNumber = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as unknown as CustomTypesConfig['getTypeParser'],
} satisfies CustomTypesConfig;

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** A statement: named ones are prepared once per connection and reused. */
interface Statement {
  name?: string;
  text: string;
}
const named = (name: string, text: string): Statement => ({ name, text });

type Db = pg.Pool | PoolClient;

/** Tries of a transaction that PostgreSQL aborted as a deadlock or serialization failure. */
const TX_ATTEMPTS = 3;

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);
const CONNECTION_ERROR_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /connection (is )?closed/i,
];

/** A deadlock or serialization failure: PostgreSQL undid the transaction and asks for it again. */
function isRetryable(e: unknown): boolean {
  const code = (e as { cause?: { code?: unknown } }).cause?.code ?? (e as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

function isConnectionError(e: unknown): boolean {
  if (e instanceof AggregateError && e.errors.some(isConnectionError)) return true;
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return CONNECTION_ERROR_MESSAGES.some((re) => re.test(e.message));
}

interface UniqueField {
  field: string;
  message: string;
}

/**
 * Driver errors → the core's closed list: lost connections are `unavailable` (the faces answer
 * 503), uniqueness violations `conflict`, text PostgreSQL cannot store (NUL) `validation`. The driver error rides along as `cause` for the
 * logs; messages never carry SQL.
 */
function translate(e: unknown, unique?: UniqueField): unknown {
  if (e instanceof ParleyError) return e;
  let out: ParleyError | null = null;
  if (isConnectionError(e)) {
    out = new ParleyError('unavailable', 'The database is unavailable; try again.');
  } else if ((e as { code?: unknown } | null)?.code === '23505') {
    out = unique ? conflict(unique.field, unique.message) : new ParleyError('conflict', 'That already exists.');
  } else if (['22021', '22P05'].includes(String((e as { code?: unknown } | null)?.code))) {
    // PostgreSQL text and jsonb cannot hold U+0000: a client's NUL is its mistake, not a 500.
    out = new ParleyError('validation', 'Text may not contain the NUL character (U+0000).', { non_field_errors: ['Text may not contain the NUL character (U+0000).'] });
  }
  if (!out) return e;
  out.cause = e;
  return out;
}

/** Runs one statement; errors come out as the driver raised them (callers translate). */
async function run<R extends QueryResultRow>(
  db: Db,
  statement: Statement | string,
  values: readonly unknown[] = [],
): Promise<QueryResult<R>> {
  const config = typeof statement === 'string' ? { text: statement } : statement;
  return db.query<R>({ ...config, values: [...values] });
}

const INSERT_ATTACHMENT = `INSERT INTO attachments (uploader_id, message_id, storage_key, thumbnail_key, name, size, mime_type, media_type, width, height, external_url, metadata, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${attachmentColumns()}`;

/** The attachment part of `insertMessage`, inside its transaction (a throw undoes the send). */
async function linkAttachments(c: PoolClient, row: MessageRow, input: NewMessage): Promise<MessageRow> {
  let out = row;
  if (input.forwardedFromId != null) {
    const updated = await run<MessageRow>(c, `UPDATE messages SET forwarded_from_id = $1 WHERE id = $2 RETURNING ${messageColumns()}`, [input.forwardedFromId, row.id]);
    out = updated.rows[0] ?? row;
  }
  const ids = [...new Set(input.attachmentIds ?? [])];
  if (ids.length > 0) {
    const changed = await run(c, 'UPDATE attachments SET message_id = $1 WHERE message_id IS NULL AND uploader_id = $2 AND id = ANY($3::bigint[])', [row.id, input.senderId, ids]);
    if (changed.rowCount !== ids.length) throw invalid('attachment_ids', 'Attach only your own uploads that are not attached to a message yet.');
  }
  for (const m of input.media ?? []) {
    await run(c, INSERT_ATTACHMENT, [
      input.senderId, row.id, m.storageKey, m.thumbnailKey, m.name, m.size, m.mimeType, m.mediaType, m.width, m.height, m.externalUrl,
      m.metadata === null ? null : JSON.stringify(m.metadata), input.now,
    ]);
  }
  return out;
}

/** Collects positional parameters for SQL assembled from a query's optional parts. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const likeContains = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// The default text-search parser takes "<...>" for HTML tags and drops them; the search_vector
// column and the snippet both see angle brackets as private-use characters instead (see
// migration 0001), which are turned back before the snippet is escaped.
const SEARCH_TEXT = (column: string): string => `translate(${column}, '<>', E'\\uE002\\uE003')`;
const fromSearchText = (text: string): string => text.replaceAll('\u{E002}', '<').replaceAll('\u{E003}', '>');
const HEADLINE_OPTIONS = `StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=35, MinWords=15, HighlightAll=false`;
// Longer words are never indexed (PostgreSQL skips them), so a term holding one matches nothing.
const MAX_LEXEME_BYTES = 2047;

/**
 * Builds a `to_tsquery` text from parsed terms. Words keep letters, marks and digits only, so
 * no user input is query syntax; a term of several words is a phrase (`<->`), `prefix` adds
 * `:*` to its last word, terms are ANDed. Null when nothing is left to search for, or when a
 * term cannot match anything.
 */
function toTsQuery(terms: readonly SearchTerm[]): string | null {
  const parts: string[] = [];
  for (const term of terms) {
    const words = term.words.flatMap((w) => w.split(/[^\p{L}\p{M}\p{N}]+/u)).filter((w) => w !== '');
    if (words.length === 0) continue;
    if (words.some((w) => Buffer.byteLength(w) > MAX_LEXEME_BYTES)) return null;
    parts.push(`(${words.join(' <-> ')}${term.prefix ? ':*' : ''})`);
  }
  return parts.length > 0 ? parts.join(' & ') : null;
}

/** What a viewer does not see of `m`: messages they hid, and those of senders they block. */
const NOT_HIDDEN = (viewer: string) =>
  `NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.user_id = ${viewer} AND h.message_id = m.id)` +
  ` AND NOT EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = ${viewer} AND b.blocked_id = m.sender_id)`;

// ── hot-path statements ─────────────────────────────────────────────────────

const S = {
  getUser: named('get-user', `SELECT ${userColumns()} FROM users WHERE id = $1`),
  userByToken: named(
    'user-by-token',
    `SELECT ${userColumns('u')} FROM auth_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = $1 AND u.is_active AND (t.expires_at IS NULL OR t.expires_at > $2)`,
  ),
  getConversation: named('get-conversation', `SELECT ${conversationColumns()} FROM conversations WHERE id = $1`),
  getMember: named('get-member', `SELECT ${memberColumns()} FROM members WHERE conversation_id = $1 AND user_id = $2`),
  listMembers: named(
    'list-members',
    `SELECT ${memberColumns()} FROM members WHERE conversation_id = $1 ORDER BY joined_at, user_id`,
  ),
  membershipsOf: named(
    'memberships-of',
    `SELECT ${memberColumns()} FROM members WHERE user_id = $1 ORDER BY joined_at, conversation_id`,
  ),
  messageByClientId: named(
    'message-by-client-id',
    `SELECT ${messageColumns()} FROM messages WHERE conversation_id = $1 AND sender_id = $2 AND client_id = $3`,
  ),
  // Takes the conversation's row lock until commit: sends to one conversation queue here, so
  // seqs are gap-free and become visible in order.
  bumpSeq: named(
    'bump-seq',
    'UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = $1 WHERE id = $2 RETURNING last_seq',
  ),
  insertMessage: named(
    'insert-message',
    `INSERT INTO messages (conversation_id, seq, sender_id, content, parent_id, client_id, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (conversation_id, sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
     RETURNING ${messageColumns()}`,
  ),
  senderCursor: named(
    'sender-cursor',
    `UPDATE members SET last_read_seq = greatest(last_read_seq, $1), read_at = $2,
                        last_delivered_seq = greatest(last_delivered_seq, $1), delivered_at = $2
     WHERE conversation_id = $3 AND user_id = $4`,
  ),
  getMessage: named('get-message', `SELECT ${messageColumns()} FROM messages WHERE id = $1`),
  lastMessages: named(
    'last-messages',
    `SELECT ${messageColumns('m')} FROM unnest($1::bigint[]) AS c(id)
     CROSS JOIN LATERAL (
       SELECT ${messageColumns('m')} FROM messages m
       WHERE m.conversation_id = c.id AND m.deleted_at IS NULL AND ${NOT_HIDDEN('$2')}
       ORDER BY m.seq DESC LIMIT 1
     ) m`,
  ),
  appendEvent: named(
    'append-event',
    `INSERT INTO events (conversation_id, type, payload, targeted, created_at) VALUES ($1, $2, $3, $4, $5)
     RETURNING ${eventColumns()}`,
  ),
  addRecipients: named(
    'add-recipients',
    'INSERT INTO event_recipients (event_id, user_id) SELECT $1, u FROM unnest($2::bigint[]) AS u ON CONFLICT DO NOTHING',
  ),
  eventsFor: named(
    'events-for',
    `SELECT ${eventColumns('e')} FROM events e
     WHERE e.id > $1 AND (
       (NOT e.targeted AND e.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = $2))
       OR (e.targeted AND EXISTS (SELECT 1 FROM event_recipients r WHERE r.user_id = $2 AND r.event_id = e.id)))
     ORDER BY e.id LIMIT $3`,
  ),
};

/** listMessages / countMessages come in a few shapes; each gets its own prepared statement. */
function messagePage(conversationId: ConversationId, q: MessageFilter, page?: MessageQuery): { statement: Statement; values: unknown[] } {
  const p = new Params();
  const where = [`m.conversation_id = ${p.add(conversationId)}`, NOT_HIDDEN(p.add(q.viewerId))];
  let shape = q.includeDeleted ? 'x' : '';
  if (!q.includeDeleted) where.push('m.deleted_at IS NULL');
  if (q.beforeSeq !== undefined) {
    where.push(`m.seq < ${p.add(q.beforeSeq)}`);
    shape += 'b';
  }
  if (q.afterSeq !== undefined) {
    where.push(`m.seq > ${p.add(q.afterSeq)}`);
    shape += 'a';
  }
  if (!page) {
    return {
      statement: named(`count-messages-${shape}`, `SELECT count(*) AS n FROM messages m WHERE ${where.join(' AND ')}`),
      values: p.values,
    };
  }
  const order = page.newestFirst ? 'DESC' : 'ASC';
  const text = `SELECT ${messageColumns('m')} FROM messages m WHERE ${where.join(' AND ')}
    ORDER BY m.seq ${order} LIMIT ${p.add(page.limit)} OFFSET ${p.add(page.offset ?? 0)}`;
  return { statement: named(`list-messages-${order.toLowerCase()}-${shape}`, text), values: p.values };
}

// ── the store ───────────────────────────────────────────────────────────────

/** Pooled clients that already carry the error listener of `connect()`. */
const guarded = new WeakSet<PoolClient>();

/** The `UnreadFilter` part of the unread counts, as SQL and a statement-name suffix; null: nothing can match. */
function unreadWhere(p: Params, filter: UnreadFilter): { where: string[]; shape: string } | null {
  const where: string[] = [];
  let shape = '';
  if (filter.conversationIds) {
    if (filter.conversationIds.length === 0) return null;
    where.push(`AND mb.conversation_id = ANY(${p.add([...filter.conversationIds])}::bigint[])`);
    shape += 'c';
  }
  if (filter.kinds && filter.kinds.length > 0) {
    where.push(`AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = mb.conversation_id AND c.kind = ANY(${p.add([...filter.kinds])}::text[]))`);
    shape += 'k';
  }
  return { where, shape };
}

class PostgresStore implements Store {
  private closed = false;
  /** Set on the view `transaction()` hands its work: every statement goes to this connection. */
  private bound: PoolClient | null = null;
  /** Units of work of `transaction()`, committed in batches. */
  private readonly writer: GroupCommit<Store>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string | undefined,
  ) {
    this.writer = new GroupCommit<Store>({
      open: async () => this.openBatch(),
      maxBatch: 64,
      retryable: isRetryable,
      maxAttempts: TX_ATTEMPTS,
      translate: (e) => translate(e),
    });
  }

  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.bound) return Promise.reject(new Error('store.transaction() does not nest'));
    return this.writer.run(work);
  }

  /** The connection statements go to: the transaction's, or any pooled one. */
  private get db(): pg.Pool | PoolClient {
    return this.bound ?? this.pool;
  }

  private async openBatch() {
    const client = await this.connect();
    const view = Object.create(this) as PostgresStore;
    view.bound = client;
    let released = false;
    const release = (broken?: Error) => {
      if (released) return;
      released = true;
      client.release(broken);
    };
    return {
      view: view as Store,
      begin: async (savepoints: boolean) => void (await client.query(savepoints ? 'BEGIN; SAVEPOINT unit' : 'BEGIN')),
      savepoint: async () => undefined, // opened by `begin` and by each `release`, saving a round trip
      release: async () => void (await client.query('RELEASE SAVEPOINT unit; SAVEPOINT unit')),
      rollbackToSavepoint: async () => void (await client.query('ROLLBACK TO SAVEPOINT unit')),
      commit: async () => {
        await client.query('COMMIT');
        release();
      },
      abort: async () => {
        try {
          await client.query('ROLLBACK');
          release();
        } catch (e) {
          // A connection that cannot roll back is destroyed rather than returned to the pool.
          release(e instanceof Error ? e : new Error('rollback failed'));
        }
      },
    };
  }

  private async connect(): Promise<PoolClient> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw translate(e);
    }
    // The pool stops listening for a client's errors while it is checked out: a connection the
    // server ends between two statements of a transaction (a restart) would crash the process.
    // The next statement on it fails instead ("not queryable"), and the caller destroys it.
    if (!guarded.has(client)) {
      guarded.add(client);
      client.on('error', () => {});
    }
    return client;
  }

  /**
   * Runs `fn` in a transaction on one pooled connection. `rollback()` asks for the work to be
   * undone while still returning `fn`'s result (an idempotent retry found its original).
   */
  private async tx<T>(fn: (client: PoolClient, rollback: () => void) => Promise<T>, unique?: UniqueField): Promise<T> {
    // A deadlock or serialization failure undoes the whole transaction: running it again is
    // safe, and what PostgreSQL asks for.
    // Inside `transaction()` the batch retries the whole unit instead.
    if (this.bound) return this.txOnce(fn, unique);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.txOnce(fn, unique);
      } catch (e) {
        if (attempt >= TX_ATTEMPTS || !isRetryable(e)) throw e;
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
      }
    }
  }

  private async txOnce<T>(fn: (client: PoolClient, rollback: () => void) => Promise<T>, unique?: UniqueField): Promise<T> {
    if (this.bound) return this.nested(this.bound, fn, unique);
    const client = await this.connect();
    let undo = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client, () => {
        undo = true;
      });
      await client.query(undo ? 'ROLLBACK' : 'COMMIT');
      client.release();
      return result;
    } catch (e) {
      let broken: Error | undefined;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error('rollback failed');
      }
      // A connection that cannot roll back is destroyed rather than returned to the pool.
      client.release(broken);
      throw translate(e, unique);
    }
  }

  /** `tx()` inside `transaction()`: a savepoint on the transaction's connection. */
  private async nested<T>(client: PoolClient, fn: (client: PoolClient, rollback: () => void) => Promise<T>, unique?: UniqueField): Promise<T> {
    let undo = false;
    await client.query('SAVEPOINT nested');
    try {
      const result = await fn(client, () => {
        undo = true;
      });
      await client.query(undo ? 'ROLLBACK TO SAVEPOINT nested; RELEASE SAVEPOINT nested' : 'RELEASE SAVEPOINT nested');
      return result;
    } catch (e) {
      await client.query('ROLLBACK TO SAVEPOINT nested; RELEASE SAVEPOINT nested').catch(() => undefined);
      throw translate(e, unique);
    }
  }

  /** One statement on any pooled connection, with errors translated. */
  private async exec<R extends QueryResultRow>(
    statement: Statement | string,
    values: readonly unknown[] = [],
    unique?: UniqueField,
  ): Promise<QueryResult<R>> {
    try {
      return await run<R>(this.db, statement, values);
    } catch (e) {
      throw translate(e, unique);
    }
  }

  private async rows<R extends QueryResultRow>(statement: Statement | string, values: readonly unknown[] = []): Promise<R[]> {
    return (await this.exec<R>(statement, values)).rows;
  }

  private async first<R extends QueryResultRow>(statement: Statement | string, values: readonly unknown[] = []): Promise<R | null> {
    return (await this.exec<R>(statement, values)).rows[0] ?? null;
  }

  private async changes(statement: Statement | string, values: readonly unknown[] = []): Promise<number> {
    return (await this.exec(statement, values)).rowCount ?? 0;
  }

  async migrate(): Promise<{ applied: string[] }> {
    const client = await this.connect();
    const lockKey = `parley.migrate:${this.schema ?? ''}`;
    let locked = false;
    let broken: Error | undefined;
    try {
      // Several servers may start at once: one migrates, the others wait and find nothing to do.
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
      locked = true;
      if (this.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL)');
      const done = new Set((await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.id)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, now())', [m.id]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
        applied.push(m.id);
      }
      return { applied };
    } catch (e) {
      if (isConnectionError(e)) broken = e instanceof Error ? e : undefined;
      throw translate(e);
    } finally {
      if (locked && !broken) {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch((e: unknown) => {
          broken = e instanceof Error ? e : new Error('unlock failed');
        });
      }
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  // ── users ────────────────────────────────────────────────────────────────
  async createUser(input: NewUser): Promise<User> {
    const result = await this.exec<UserRow>(
      `INSERT INTO users (username, display_name, email, avatar_url, password_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${userColumns()}`,
      [input.username, input.displayName, input.email, input.avatarUrl ?? null, input.passwordHash, input.now],
      { field: 'username', message: 'A user with that username already exists.' },
    );
    return toUser(result.rows[0] as UserRow);
  }

  async getUser(id: UserId): Promise<User | null> {
    const row = await this.first<UserRow>(S.getUser, [id]);
    return row ? toUser(row) : null;
  }

  async getUserByUsername(username: string): Promise<UserWithPassword | null> {
    const row = await this.first<UserRow>(`SELECT ${userColumns()} FROM users WHERE lower(username) = lower($1)`, [username]);
    return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
  }

  async getUsers(ids: readonly UserId[]): Promise<User[]> {
    if (ids.length === 0) return [];
    return (await this.rows<UserRow>(`SELECT ${userColumns()} FROM users WHERE id = ANY($1::bigint[])`, [[...ids]])).map(toUser);
  }

  async searchUsers(query: string, limit: number): Promise<User[]> {
    const rows = await this.rows<UserRow>(
      `SELECT ${userColumns()} FROM users
       WHERE is_active AND (username ILIKE $1 ESCAPE '\\' OR display_name ILIKE $1 ESCAPE '\\' OR email ILIKE $1 ESCAPE '\\')
       ORDER BY lower(username), id LIMIT $2`,
      [likeContains(query), limit],
    );
    return rows.map(toUser);
  }

  async updateUser(
    id: UserId,
    patch: Partial<Pick<User, 'displayName' | 'email' | 'avatarUrl' | 'isActive'>>,
  ): Promise<User | null> {
    const row = await this.first<UserRow>(
      `UPDATE users SET
         display_name = coalesce($1::text, display_name),
         email = coalesce($2::text, email),
         avatar_url = CASE WHEN $3::boolean THEN $4::text ELSE avatar_url END,
         is_active = coalesce($5::boolean, is_active)
       WHERE id = $6 RETURNING ${userColumns()}`,
      [patch.displayName ?? null, patch.email ?? null, patch.avatarUrl !== undefined, patch.avatarUrl ?? null, patch.isActive ?? null, id],
    );
    return row ? toUser(row) : null;
  }

  async setPasswordHash(id: UserId, hash: string): Promise<void> {
    await this.exec('UPDATE users SET password_hash = $1 WHERE id = $2', [hash, id]);
  }

  async getUserByExternalId(externalId: string): Promise<User | null> {
    const row = await this.first<UserRow>(`SELECT ${userColumns()} FROM users WHERE external_id = $1`, [externalId]);
    return row ? toUser(row) : null;
  }

  async upsertExternalUser(input: ExternalUserInput): Promise<User> {
    const freeUsername = async (selfId: number | null): Promise<string> => {
      const candidates = usernameCandidates(input.username, input.externalId);
      const taken = await this.rows<{ id: number; name: string }>(
        'SELECT id, lower(username) AS name FROM users WHERE lower(username) = ANY($1::text[])',
        [candidates.map((c) => c.toLowerCase())],
      );
      const owner = new Map(taken.map((r) => [r.name, r.id]));
      const free = candidates.find((c) => {
        const id = owner.get(c.toLowerCase());
        return id === undefined || id === selfId;
      });
      if (free === undefined) throw conflict('username', 'No free username is left for this user.');
      return free;
    };
    // No lock: the unique indexes decide. `ON CONFLICT (external_id) DO NOTHING` makes a racing
    // first request wait for the winner and then find its row; a username another writer took
    // meanwhile fails the statement with a unique violation, and the next round picks again.
    for (let round = 1; ; round++) {
      try {
        const row = await this.first<UserRow>(`SELECT ${userColumns()} FROM users WHERE external_id = $1`, [input.externalId]);
        if (row) {
          const user = toUser(row);
          const patch = externalUserPatch(user, input, await freeUsername(user.id));
          if (Object.keys(patch).length === 0) return user;
          const next = { ...user, ...patch };
          const updated = await run<UserRow>(
            this.db,
            `UPDATE users SET username = $1, display_name = $2, email = $3, avatar_url = $4
             WHERE id = $5 RETURNING ${userColumns()}`,
            [next.username, next.displayName, next.email, next.avatarUrl, user.id],
          );
          return toUser(updated.rows[0] as UserRow);
        }
        const username = await freeUsername(null);
        const created = await run<UserRow>(
          this.db,
          `INSERT INTO users (username, display_name, email, avatar_url, password_hash, created_at, external_id)
           VALUES ($1, $2, $3, $4, NULL, $5, $6)
           ON CONFLICT (external_id) DO NOTHING RETURNING ${userColumns()}`,
          [username, input.displayName ?? username, input.email ?? '', input.avatarUrl ?? null, input.now, input.externalId],
        );
        if (created.rows[0]) return toUser(created.rows[0]);
      } catch (e) {
        if ((e as { code?: unknown }).code !== '23505' || round >= 5) throw translate(e, { field: 'username', message: 'A user with that username already exists.' });
      }
    }
  }

  // ── tokens ───────────────────────────────────────────────────────────────
  async createToken(input: NewToken): Promise<void> {
    await this.exec(
      'INSERT INTO auth_tokens (token_hash, user_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [input.tokenHash, input.userId, input.kind, input.now, input.expiresAt],
    );
  }

  async getUserByTokenHash(tokenHash: string, now: Date): Promise<User | null> {
    const row = await this.first<UserRow>(S.userByToken, [tokenHash, now]);
    return row ? toUser(row) : null;
  }

  async deleteToken(tokenHash: string): Promise<boolean> {
    return (await this.changes('DELETE FROM auth_tokens WHERE token_hash = $1', [tokenHash])) > 0;
  }

  // ── conversations ────────────────────────────────────────────────────────
  async createConversation(input: NewConversation): Promise<Conversation> {
    const row = await this.tx(
      async (c) => {
        const { rows } = await run<ConversationRow>(
          c,
          `INSERT INTO conversations (kind, title, object_key, dm_key, is_public, created_by, created_at, updated_at, last_activity_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) RETURNING ${conversationColumns()}`,
          [input.kind, input.title, input.objectKey, input.dmKey, input.isPublic, input.createdBy, input.now],
        );
        const conv = rows[0] as ConversationRow;
        await this.insertMembers(c, conv.id, input.members, input.now, 0);
        if (input.metadata != null) {
          const { rows: withMetadata } = await run<ConversationRow>(
            c,
            `UPDATE conversations SET metadata = $1::jsonb WHERE id = $2 RETURNING ${conversationColumns()}`,
            [JSON.stringify(input.metadata), conv.id],
          );
          return withMetadata[0] as ConversationRow;
        }
        return conv;
      },
      { field: input.dmKey ? 'member_ids' : 'object', message: 'That conversation already exists.' },
    );
    return toConversation(row);
  }

  /** Inserts the members not there yet (first mention wins); returns the user ids added. */
  private async insertMembers(
    c: PoolClient,
    conversationId: ConversationId,
    members: readonly { userId: UserId; role: MemberRole }[],
    now: Date,
    cursor: number,
  ): Promise<UserId[]> {
    const first = new Map<UserId, MemberRole>();
    for (const m of members) if (!first.has(m.userId)) first.set(m.userId, m.role);
    if (first.size === 0) return [];
    const userIds = [...first.keys()];
    const { rows } = await run<{ user_id: number }>(
      c,
      `INSERT INTO members (conversation_id, user_id, role, joined_at, joined_seq, last_read_seq, last_delivered_seq)
       SELECT $1, u.id, u.role, $4, $5, $5, $5 FROM unnest($2::bigint[], $3::text[]) AS u(id, role)
       ON CONFLICT DO NOTHING RETURNING user_id`,
      [conversationId, userIds, userIds.map((id) => first.get(id)), now, cursor],
    );
    const added = new Set(rows.map((r) => r.user_id));
    return userIds.filter((id) => added.has(id));
  }

  async getConversation(id: ConversationId): Promise<Conversation | null> {
    const row = await this.first<ConversationRow>(S.getConversation, [id]);
    return row ? toConversation(row) : null;
  }

  async getConversationByDmKey(key: string): Promise<Conversation | null> {
    const row = await this.first<ConversationRow>(`SELECT ${conversationColumns()} FROM conversations WHERE dm_key = $1`, [key]);
    return row ? toConversation(row) : null;
  }

  async getConversationByObjectKey(key: string): Promise<Conversation | null> {
    const row = await this.first<ConversationRow>(`SELECT ${conversationColumns()} FROM conversations WHERE object_key = $1`, [key]);
    return row ? toConversation(row) : null;
  }

  async updateConversation(
    id: ConversationId,
    patch: { title?: string | null; isPublic?: boolean; metadata?: Metadata | null },
    now: Date,
  ): Promise<Conversation | null> {
    const row = await this.first<ConversationRow>(
      `UPDATE conversations SET
         title = CASE WHEN $1::boolean THEN $2::text ELSE title END,
         is_public = coalesce($3::boolean, is_public),
         metadata = CASE WHEN $6::boolean THEN $7::jsonb ELSE metadata END,
         updated_at = $4
       WHERE id = $5 RETURNING ${conversationColumns()}`,
      [
        patch.title !== undefined,
        patch.title ?? null,
        patch.isPublic ?? null,
        now,
        id,
        patch.metadata !== undefined,
        patch.metadata == null ? null : JSON.stringify(patch.metadata),
      ],
    );
    return row ? toConversation(row) : null;
  }

  async deleteConversation(id: ConversationId): Promise<boolean> {
    return this.tx(async (c) => {
      // Its logged events go too, so nothing of it can be replayed to anyone later.
      await run(c, 'DELETE FROM events WHERE conversation_id = $1 AND NOT targeted', [id]);
      return ((await run(c, 'DELETE FROM conversations WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  async listConversations(userId: UserId, query: ConversationQuery): Promise<{ total: number; items: Conversation[] }> {
    const p = new Params();
    const user = p.add(userId);
    const where = [`mb.user_id = ${user}`];
    if (query.kinds && query.kinds.length > 0) where.push(`c.kind = ANY(${p.add([...query.kinds])}::text[])`);
    if (query.search) {
      const like = p.add(likeContains(query.search));
      where.push(`(coalesce(c.title, '') ILIKE ${like} ESCAPE '\\' OR EXISTS (
        SELECT 1 FROM members m2 JOIN users u ON u.id = m2.user_id
        WHERE m2.conversation_id = c.id AND m2.user_id <> ${user}
          AND (u.username ILIKE ${like} ESCAPE '\\' OR u.display_name ILIKE ${like} ESCAPE '\\')))`);
    }
    const from = `FROM conversations c JOIN members mb ON mb.conversation_id = c.id WHERE ${where.join(' AND ')}`;
    const countValues = [...p.values];
    if (query.after) {
      const t = p.add(query.after.lastActivityAt);
      where.push(`(c.last_activity_at < ${t} OR (c.last_activity_at = ${t} AND c.id < ${p.add(query.after.id)}))`);
    }
    const pageText = `SELECT ${conversationColumns('c')}
      FROM conversations c JOIN members mb ON mb.conversation_id = c.id WHERE ${where.join(' AND ')}
      ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ${p.add(query.limit)} OFFSET ${p.add(query.offset ?? 0)}`;
    const [count, rows] = await Promise.all([
      this.first<{ n: number }>(`SELECT count(*) AS n ${from}`, countValues),
      this.rows<ConversationRow>(pageText, p.values),
    ]);
    return { total: count?.n ?? 0, items: rows.map(toConversation) };
  }

  // ── members ──────────────────────────────────────────────────────────────
  async getMember(conversationId: ConversationId, userId: UserId): Promise<Member | null> {
    const row = await this.first<MemberRow>(S.getMember, [conversationId, userId]);
    return row ? toMember(row) : null;
  }

  async listMembers(conversationId: ConversationId): Promise<Member[]> {
    return (await this.rows<MemberRow>(S.listMembers, [conversationId])).map(toMember);
  }

  async listMembersOf(conversationIds: readonly ConversationId[]): Promise<Member[]> {
    if (conversationIds.length === 0) return [];
    const rows = await this.rows<MemberRow>(
      `SELECT ${memberColumns()} FROM members WHERE conversation_id = ANY($1::bigint[])
       ORDER BY conversation_id, joined_at, user_id`,
      [[...conversationIds]],
    );
    return rows.map(toMember);
  }

  async countMembers(conversationId: ConversationId): Promise<number> {
    return (await this.first<{ n: number }>('SELECT count(*) AS n FROM members WHERE conversation_id = $1', [conversationId]))?.n ?? 0;
  }

  async addMembers(
    conversationId: ConversationId,
    members: readonly { userId: UserId; role: MemberRole }[],
    now: Date,
  ): Promise<UserId[]> {
    if (members.length === 0) return [];
    return this.tx(async (c) => {
      // FOR SHARE holds off a concurrent send, so the newcomers' cursors are exactly lastSeq.
      const { rows } = await run<{ last_seq: number }>(c, 'SELECT last_seq FROM conversations WHERE id = $1 FOR SHARE', [conversationId]);
      const conv = rows[0];
      if (!conv) return [];
      return this.insertMembers(c, conversationId, members, now, conv.last_seq);
    });
  }

  async removeMember(conversationId: ConversationId, userId: UserId): Promise<boolean> {
    return (await this.changes('DELETE FROM members WHERE conversation_id = $1 AND user_id = $2', [conversationId, userId])) > 0;
  }

  async setMemberRole(conversationId: ConversationId, userId: UserId, role: MemberRole): Promise<boolean> {
    return (await this.changes('UPDATE members SET role = $1 WHERE conversation_id = $2 AND user_id = $3', [role, conversationId, userId])) > 0;
  }

  // ── messages ─────────────────────────────────────────────────────────────
  async insertMessage(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    const key = [input.conversationId, input.senderId, input.clientId] as const;
    if (input.clientId !== null) {
      // The common retry is answered without taking the conversation's lock.
      const existing = await this.first<MessageRow>(S.messageByClientId, key);
      if (existing) return { message: toMessage(existing), created: false };
    }
    return this.tx(async (c, rollback) => {
      const bumped = (await run<{ last_seq: number }>(c, S.bumpSeq, [input.now, input.conversationId])).rows[0];
      if (!bumped) throw new ParleyError('not_found', 'Conversation not found.');
      const inserted = await run<MessageRow>(c, S.insertMessage, [
        input.conversationId,
        bumped.last_seq,
        input.senderId,
        input.content,
        input.parentId,
        input.clientId,
        input.now,
      ]);
      const row = inserted.rows[0];
      if (!row) {
        // A concurrent send with the same clientId committed first: undo the seq bump, return it.
        rollback();
        const original = (await run<MessageRow>(c, S.messageByClientId, key)).rows[0];
        if (!original) throw new ParleyError('conflict', 'A message with that client id was sent concurrently.');
        return { message: toMessage(original), created: false };
      }
      await run(c, S.senderCursor, [bumped.last_seq, input.now, input.conversationId, input.senderId]);
      let linked = await linkAttachments(c, row, input);
      if (input.metadata != null) {
        const updated = await run<MessageRow>(c, `UPDATE messages SET metadata = $1::jsonb WHERE id = $2 RETURNING ${messageColumns()}`, [
          JSON.stringify(input.metadata),
          row.id,
        ]);
        linked = updated.rows[0] ?? linked;
      }
      return { message: toMessage(linked), created: true };
    });
  }

  // ── attachments ──────────────────────────────────────────────────────────
  async insertAttachment(a: NewAttachment): Promise<Attachment> {
    const row = await this.first<AttachmentRow>(INSERT_ATTACHMENT, [
      a.uploaderId, null, a.storageKey, a.thumbnailKey, a.name, a.size, a.mimeType, a.mediaType, a.width, a.height, a.externalUrl,
      a.metadata === null ? null : JSON.stringify(a.metadata), a.now,
    ]);
    if (!row) throw new Error('unreachable: INSERT … RETURNING gave no row');
    return toAttachment(row);
  }

  async getAttachment(id: AttachmentId): Promise<Attachment | null> {
    const row = await this.first<AttachmentRow>(`SELECT ${attachmentColumns()} FROM attachments WHERE id = $1`, [id]);
    return row ? toAttachment(row) : null;
  }

  async listAttachments(messageIds: readonly MessageId[]): Promise<Attachment[]> {
    if (messageIds.length === 0) return [];
    const rows = await this.rows<AttachmentRow>(`SELECT ${attachmentColumns()} FROM attachments WHERE message_id = ANY($1::bigint[]) ORDER BY id`, [[...messageIds]]);
    return rows.map(toAttachment);
  }

  async listConversationAttachments(conversationId: ConversationId): Promise<Attachment[]> {
    const rows = await this.rows<AttachmentRow>(
      `SELECT ${attachmentColumns('a')} FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = $1 ORDER BY a.id`,
      [conversationId],
    );
    return rows.map(toAttachment);
  }

  async listUnattached(before: Date, limit: number): Promise<Attachment[]> {
    const rows = await this.rows<AttachmentRow>(
      `SELECT ${attachmentColumns()} FROM attachments WHERE message_id IS NULL AND created_at < $1 ORDER BY created_at, id LIMIT $2`,
      [before, limit],
    );
    return rows.map(toAttachment);
  }

  async deleteAttachments(ids: readonly AttachmentId[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.changes('DELETE FROM attachments WHERE id = ANY($1::bigint[])', [[...ids]]);
  }

  async attachmentUsage(): Promise<AttachmentUsage> {
    const r = await this.first<{ files: number; bytes: number; unattached_files: number; unattached_bytes: number }>(
      `SELECT count(*)::bigint AS files, coalesce(sum(size), 0)::bigint AS bytes,
              count(*) FILTER (WHERE message_id IS NULL)::bigint AS unattached_files,
              coalesce(sum(size) FILTER (WHERE message_id IS NULL), 0)::bigint AS unattached_bytes
       FROM attachments WHERE storage_key IS NOT NULL`,
    );
    return { files: r?.files ?? 0, bytes: r?.bytes ?? 0, unattachedFiles: r?.unattached_files ?? 0, unattachedBytes: r?.unattached_bytes ?? 0 };
  }

  async getMessage(id: MessageId): Promise<Message | null> {
    const row = await this.first<MessageRow>(S.getMessage, [id]);
    return row ? toMessage(row) : null;
  }

  async listMessages(conversationId: ConversationId, query: MessageQuery): Promise<Message[]> {
    const { statement, values } = messagePage(conversationId, query, query);
    return (await this.rows<MessageRow>(statement, values)).map(toMessage);
  }

  async countMessages(conversationId: ConversationId, query: MessageFilter): Promise<number> {
    const { statement, values } = messagePage(conversationId, query);
    return (await this.first<{ n: number }>(statement, values))?.n ?? 0;
  }

  async lastMessages(conversationIds: readonly ConversationId[], viewerId: UserId): Promise<Map<ConversationId, Message>> {
    if (conversationIds.length === 0) return new Map();
    const rows = await this.rows<MessageRow>(S.lastMessages, [[...conversationIds], viewerId]);
    return new Map(rows.map((r) => [r.conversation_id, toMessage(r)]));
  }

  async updateMessageContent(id: MessageId, content: string, now: Date, metadata?: Metadata | null): Promise<Message | null> {
    const row = await this.first<MessageRow>(
      `UPDATE messages SET content = $1, updated_at = $2, edited_at = $2,
         metadata = CASE WHEN $4::boolean THEN $5::jsonb ELSE metadata END
       WHERE id = $3 RETURNING ${messageColumns()}`,
      [content, now, id, metadata !== undefined, metadata == null ? null : JSON.stringify(metadata)],
    );
    return row ? toMessage(row) : null;
  }

  async softDeleteMessage(id: MessageId, now: Date): Promise<Message | null> {
    const row = await this.first<MessageRow>(
      `UPDATE messages SET deleted_at = coalesce(deleted_at, $1), updated_at = $1 WHERE id = $2 RETURNING ${messageColumns()}`,
      [now, id],
    );
    return row ? toMessage(row) : null;
  }

  async hardDeleteMessage(id: MessageId): Promise<boolean> {
    return (await this.changes('DELETE FROM messages WHERE id = $1', [id])) > 0;
  }

  async hideMessage(messageId: MessageId, userId: UserId, now: Date): Promise<void> {
    await this.exec(
      `INSERT INTO message_hides (message_id, user_id, hidden_at) SELECT id, $2, $3 FROM messages WHERE id = $1
       ON CONFLICT DO NOTHING`,
      [messageId, userId, now],
    );
  }

  // ── reactions ────────────────────────────────────────────────────────────
  async toggleReaction(messageId: MessageId, userId: UserId, emoji: string, now: Date): Promise<'added' | 'removed'> {
    return this.tx(async (c) => {
      const removed = await run(c, 'DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3', [messageId, userId, emoji]);
      if ((removed.rowCount ?? 0) > 0) return 'removed';
      // A concurrent toggle that added it first leaves it added: both callers said "add".
      await run(
        c,
        'INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [messageId, userId, emoji, now],
      );
      return 'added';
    });
  }

  async listReactions(messageIds: readonly MessageId[]): Promise<ReactionRow[]> {
    if (messageIds.length === 0) return [];
    const rows = await this.rows<ReactionDbRow>(
      `SELECT message_id, user_id, emoji, created_at FROM reactions WHERE message_id = ANY($1::bigint[])
       ORDER BY created_at, message_id, user_id, emoji`,
      [[...messageIds]],
    );
    return rows.map(toReaction);
  }

  // ── cursors ──────────────────────────────────────────────────────────────
  private advance(
    column: 'read' | 'delivered',
    conversationId: ConversationId,
    userId: UserId,
    uptoSeq: number,
    now: Date,
  ): Promise<CursorMove | null> {
    const seqCol = column === 'read' ? 'last_read_seq' : 'last_delivered_seq';
    const atCol = column === 'read' ? 'read_at' : 'delivered_at';
    return this.tx(async (c): Promise<CursorMove | null> => {
      const { rows } = await run<{ seq: number; last: number }>(
        c,
        named(
          `cursor-${column}`,
          `SELECT mb.${seqCol} AS seq, c.last_seq AS last FROM members mb JOIN conversations c ON c.id = mb.conversation_id
           WHERE mb.conversation_id = $1 AND mb.user_id = $2 FOR UPDATE OF mb`,
        ),
        [conversationId, userId],
      );
      const cur = rows[0];
      if (!cur) return null;
      const target = Math.min(uptoSeq, cur.last);
      if (target <= cur.seq) return { before: cur.seq, after: cur.seq };
      await run(
        c,
        named(`cursor-${column}-move`, `UPDATE members SET ${seqCol} = $1, ${atCol} = $2 WHERE conversation_id = $3 AND user_id = $4`),
        [target, now, conversationId, userId],
      );
      return { before: cur.seq, after: target };
    });
  }

  async advanceReadCursor(conversationId: ConversationId, userId: UserId, uptoSeq: number, now: Date): Promise<CursorMove | null> {
    return this.advance('read', conversationId, userId, uptoSeq, now);
  }

  async advanceDeliveryCursor(conversationId: ConversationId, userId: UserId, uptoSeq: number, now: Date): Promise<CursorMove | null> {
    return this.advance('delivered', conversationId, userId, uptoSeq, now);
  }

  async countUnread(userId: UserId, filter: UnreadFilter = {}): Promise<Map<ConversationId, number>> {
    const p = new Params();
    const user = p.add(userId);
    const f = unreadWhere(p, filter);
    if (!f) return new Map();
    const { where, shape } = f;
    const rows = await this.rows<{ id: number; n: number }>(
      named(
        `count-unread-${shape}`,
        `SELECT mb.conversation_id AS id, count(*) AS n
         FROM members mb JOIN messages m ON m.conversation_id = mb.conversation_id AND m.seq > mb.last_read_seq
         WHERE mb.user_id = ${user} AND m.sender_id <> ${user} AND m.deleted_at IS NULL AND ${NOT_HIDDEN(user)}
           ${where.join(' ')}
         GROUP BY mb.conversation_id`,
      ),
      p.values,
    );
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  async countFromOthers(conversationId: ConversationId, userId: UserId, fromSeq: number, toSeq: number): Promise<number> {
    const row = await this.first<{ n: number }>(
      `SELECT count(*) AS n FROM messages m
       WHERE m.conversation_id = $1 AND m.seq > $2 AND m.seq <= $3 AND m.sender_id <> $4 AND m.deleted_at IS NULL AND ${NOT_HIDDEN('$4')}`,
      [conversationId, fromSeq, toSeq, userId],
    );
    return row?.n ?? 0;
  }

  async listMembershipsOf(userId: UserId): Promise<Member[]> {
    return (await this.rows<MemberRow>(S.membershipsOf, [userId])).map(toMember);
  }

  async listContactsOf(userId: UserId): Promise<UserId[]> {
    const rows = await this.rows<{ id: number }>(
      `SELECT DISTINCT o.user_id AS id FROM members mine JOIN members o ON o.conversation_id = mine.conversation_id
       WHERE mine.user_id = $1 AND o.user_id <> $1`,
      [userId],
    );
    return rows.map((r) => r.id);
  }

  async listFromOthers(conversationId: ConversationId, userId: UserId, fromSeq: number, toSeq: number, limit: number): Promise<Message[]> {
    const rows = await this.rows<MessageRow>(
      `SELECT ${messageColumns('m')} FROM messages m
       WHERE m.conversation_id = $1 AND m.seq > $2 AND m.seq <= $3 AND m.sender_id <> $4 AND m.deleted_at IS NULL AND ${NOT_HIDDEN('$4')}
       ORDER BY m.seq LIMIT $5`,
      [conversationId, fromSeq, toSeq, userId, limit],
    );
    return rows.map(toMessage);
  }

  async listSeqRange(conversationId: ConversationId, fromSeq: number, toSeq: number, limit: number): Promise<Message[]> {
    const rows = await this.rows<MessageRow>(
      `SELECT ${messageColumns()} FROM messages WHERE conversation_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
      [conversationId, fromSeq, toSeq, limit],
    );
    return rows.map(toMessage);
  }

  async setLastSeen(userId: UserId, at: Date): Promise<void> {
    await this.exec('UPDATE users SET last_seen_at = $1 WHERE id = $2', [at, userId]);
  }

  async getLastSeen(userIds: readonly UserId[]): Promise<Map<UserId, Date>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.rows<{ id: number; last_seen_at: Date }>(
      'SELECT id, last_seen_at FROM users WHERE last_seen_at IS NOT NULL AND id = ANY($1::bigint[])',
      [[...userIds]],
    );
    return new Map(rows.map((r) => [r.id, r.last_seen_at]));
  }

  // ── event log ────────────────────────────────────────────────────────────
  async appendEvent(input: NewEvent): Promise<StoredEvent> {
    return this.tx(async (c) => {
      // Appends take turns, so ids become visible in the order they are issued and a reader
      // resuming after id n can never miss a smaller id that commits later. Reads don't wait.
      await run(c, 'LOCK TABLE events IN EXCLUSIVE MODE');
      const { rows } = await run<EventRow>(c, S.appendEvent, [
        input.conversationId,
        input.type,
        input.payload,
        input.recipients !== null,
        input.now,
      ]);
      const row = rows[0] as EventRow;
      if (input.recipients && input.recipients.length > 0) {
        await run(c, S.addRecipients, [row.id, [...new Set(input.recipients)]]);
      }
      return toEvent(row);
    });
  }

  async listEventsFor(userId: UserId, afterId: number, limit: number): Promise<StoredEvent[]> {
    return (await this.rows<EventRow>(S.eventsFor, [afterId, userId, limit])).map(toEvent);
  }

  async eventLogBounds(): Promise<{ oldest: number; newest: number }> {
    const r = await this.first<{ oldest: number | null; newest: number | null; issued: number | null }>(
      `SELECT min(id) AS oldest, max(id) AS newest,
              pg_sequence_last_value(pg_get_serial_sequence('events', 'id')::regclass) AS issued
       FROM events`,
    );
    if (r && r.oldest !== null && r.newest !== null) return { oldest: r.oldest, newest: r.newest };
    return { oldest: 0, newest: r?.issued ?? 0 };
  }

  async pruneEvents(before: Date): Promise<number> {
    return this.changes('DELETE FROM events WHERE created_at < $1', [before]);
  }

  // ── webhook outbox (src/store/postgres/webhook-outbox.ts) ──────────────────
  /** Built on use, so inside `transaction()` it runs on the transaction's connection (`this` is the view). */
  private get outbox(): PostgresWebhookOutbox {
    return new PostgresWebhookOutbox(<R extends object>(text: string, values: readonly unknown[]) => this.rows<R & QueryResultRow>(text, values));
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

  // ── blocks and mutes ─────────────────────────────────────────────────────
  async blockUser(blockerId: UserId, blockedId: UserId, now: Date): Promise<boolean> {
    return (await this.changes('INSERT INTO user_blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [blockerId, blockedId, now])) > 0;
  }

  async unblockUser(blockerId: UserId, blockedId: UserId): Promise<boolean> {
    return (await this.changes('DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2', [blockerId, blockedId])) > 0;
  }

  async listBlocked(blockerId: UserId): Promise<BlockRow[]> {
    const rows = await this.rows<{ blocked_id: number; created_at: Date }>(
      'SELECT blocked_id, created_at FROM user_blocks WHERE blocker_id = $1 ORDER BY created_at, blocked_id',
      [blockerId],
    );
    return rows.map((r) => ({ blockedId: Number(r.blocked_id), createdAt: r.created_at }));
  }

  async listBlockersOf(blockedId: UserId, among: readonly UserId[]): Promise<UserId[]> {
    if (among.length === 0) return [];
    // Few users block any one user: read them all and intersect, rather than sending a list as
    // long as a room's membership on every fan-out.
    const rows = await this.rows<{ blocker_id: number }>('SELECT blocker_id FROM user_blocks WHERE blocked_id = $1', [blockedId]);
    if (rows.length === 0) return [];
    const wanted = new Set(among);
    return rows.map((r) => Number(r.blocker_id)).filter((id) => wanted.has(id));
  }

  async setMute(conversationId: ConversationId, userId: UserId, until: Date | null, now: Date): Promise<boolean> {
    const n = await this.changes(
      `INSERT INTO conversation_mutes (conversation_id, user_id, muted_until, created_at)
       SELECT conversation_id, user_id, $3::timestamptz, $4::timestamptz FROM members WHERE conversation_id = $1 AND user_id = $2
       ON CONFLICT (user_id, conversation_id) DO UPDATE SET muted_until = excluded.muted_until, created_at = excluded.created_at`,
      [conversationId, userId, until, now],
    );
    return n > 0;
  }

  async clearMute(conversationId: ConversationId, userId: UserId): Promise<boolean> {
    return (await this.changes('DELETE FROM conversation_mutes WHERE conversation_id = $1 AND user_id = $2', [conversationId, userId])) > 0;
  }

  async listMutes(userId: UserId, conversationIds?: readonly ConversationId[]): Promise<MuteRow[]> {
    if (conversationIds && conversationIds.length === 0) return [];
    const rows = await this.rows<{ conversation_id: number; user_id: number; muted_until: Date | null; created_at: Date }>(
      `SELECT conversation_id, user_id, muted_until, created_at FROM conversation_mutes
       WHERE user_id = $1 AND ($2::bigint[] IS NULL OR conversation_id = ANY($2::bigint[])) ORDER BY conversation_id`,
      [userId, conversationIds ? [...conversationIds] : null],
    );
    return rows.map((r) => ({ conversationId: Number(r.conversation_id), userId: Number(r.user_id), until: r.muted_until, createdAt: r.created_at }));
  }

  // ── search ───────────────────────────────────────────────────────────────
  async searchMessages(userId: UserId, terms: readonly SearchTerm[], limit: number): Promise<SearchHit[]> {
    const query = toTsQuery(terms);
    if (query === null) return [];
    // Snippets are built for the page only, after ranking and the limit.
    const rows = await this.rows<MessageRow & { rank: number; snippet: string }>(
      `SELECT ${messageColumns('hit')}, hit.rank,
              ts_headline('simple', ${SEARCH_TEXT('hit.content')}, hit.query, $4) AS snippet
       FROM (
         SELECT ${messageColumns('m')}, q.query, ts_rank(m.search_vector, q.query) AS rank
         FROM (SELECT to_tsquery('simple', $2) AS query) q
         JOIN messages m ON m.search_vector @@ q.query
         JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = $1
         WHERE m.deleted_at IS NULL AND ${NOT_HIDDEN('$1')}
         ORDER BY rank DESC, m.id DESC
         LIMIT $3
       ) hit
       ORDER BY hit.rank DESC, hit.id DESC`,
      [userId, query, limit, HEADLINE_OPTIONS],
    );
    return rows.map((r) => ({
      message: toMessage(r),
      highlighted: markedSnippetToHtml(fromSearchText(r.snippet)),
      rank: r.rank,
    }));
  }

  // ── read marks ───────────────────────────────────────────────────────────
  async recordRead(conversationId: ConversationId, userId: UserId, uptoSeq: number, now: Date): Promise<CursorMove | null> {
    return this.tx(async (c): Promise<CursorMove | null> => {
      // The member row is locked, so two reads of one member never add overlapping ranges.
      const { rows } = await run<{ seq: number; last: number }>(
        c,
        named(
          'read-mark',
          `SELECT greatest(mb.joined_seq, coalesce((SELECT max(r.upto_seq) FROM read_marks r WHERE r.conversation_id = mb.conversation_id AND r.user_id = mb.user_id), 0)) AS seq,
                  c.last_seq AS last
           FROM members mb JOIN conversations c ON c.id = mb.conversation_id
           WHERE mb.conversation_id = $1 AND mb.user_id = $2 FOR UPDATE OF mb`,
        ),
        [conversationId, userId],
      );
      const cur = rows[0];
      if (!cur) return null;
      const before = Number(cur.seq);
      const target = Math.min(uptoSeq, Number(cur.last));
      if (target <= before) return { before, after: before };
      await run(
        c,
        named('read-mark-add', 'INSERT INTO read_marks (conversation_id, user_id, from_seq, upto_seq, read_at) VALUES ($1, $2, $3, $4, $5)'),
        [conversationId, userId, before, target, now],
      );
      return { before, after: target };
    });
  }

  async listReadMarks(conversationId: ConversationId, userId: UserId, fromSeq: number, toSeq: number): Promise<ReadMark[]> {
    const rows = await this.rows<{ from_seq: number; upto_seq: number; read_at: Date }>(
      named(
        'read-marks',
        `SELECT from_seq, upto_seq, read_at FROM read_marks
         WHERE conversation_id = $1 AND user_id = $2 AND upto_seq > $3 AND from_seq < $4 ORDER BY upto_seq`,
      ),
      [conversationId, userId, fromSeq, toSeq],
    );
    return rows.map((r) => ({ fromSeq: Number(r.from_seq), uptoSeq: Number(r.upto_seq), readAt: r.read_at }));
  }

  async countUnreadByMark(userId: UserId, filter: UnreadFilter = {}): Promise<Map<ConversationId, number>> {
    const p = new Params();
    const user = p.add(userId);
    const f = unreadWhere(p, filter);
    if (!f) return new Map();
    const { where, shape } = f;
    const rows = await this.rows<{ id: number; n: number }>(
      named(
        `count-unread-by-mark-${shape}`,
        `SELECT mb.conversation_id AS id, count(*) AS n
         FROM members mb JOIN messages m ON m.conversation_id = mb.conversation_id
           AND m.seq > greatest(mb.joined_seq, coalesce((SELECT max(r.upto_seq) FROM read_marks r WHERE r.conversation_id = mb.conversation_id AND r.user_id = mb.user_id), 0))
         WHERE mb.user_id = ${user} AND m.sender_id <> ${user} AND m.deleted_at IS NULL AND ${NOT_HIDDEN(user)}
           ${where.join(' ')}
         GROUP BY mb.conversation_id`,
      ),
      p.values,
    );
    return new Map(rows.map((r) => [Number(r.id), Number(r.n)]));
  }

  // ── operations: export/import, backups, admin listings ────────────────────
  async countRows(table: PortableTable): Promise<number> {
    return pgCountRows(this.pool, table).catch((e: unknown) => Promise.reject(translate(e)));
  }

  async exportRows(table: PortableTable, after: PortableRow | null, limit: number): Promise<PortableRow[]> {
    return pgExportRows(this.pool, table, after, limit).catch((e: unknown) => Promise.reject(translate(e)));
  }

  async importRows(table: PortableTable, rows: readonly PortableRow[]): Promise<number> {
    return this.tx((client) => pgImportRows(client, table, rows));
  }

  async finishImport(): Promise<void> {
    await pgFinishImport(this.pool).catch((e: unknown) => Promise.reject(translate(e)));
  }

  async listTokens(userId: UserId | null): Promise<TokenInfo[]> {
    return pgListTokens(this.pool, userId).catch((e: unknown) => Promise.reject(translate(e)));
  }

  async backup(file: string): Promise<BackupResult> {
    // PostgreSQL's own tool makes a consistent dump; the password stays out of the command line.
    const url = new URL(this.pool.options.connectionString ?? 'postgres://localhost/');
    const hadPassword = url.password !== '';
    url.password = '';
    const schema = this.schema !== undefined ? ` --schema=${this.schema}` : '';
    const env = hadPassword ? 'PGPASSWORD=… ' : '';
    return { command: `${env}pg_dump --format=custom${schema} --file=${shellQuote(file)} ${shellQuote(url.toString())}` };
  }

  async getTokenInfo(tokenHash: string): Promise<TokenInfo | null> {
    return pgTokenInfo(this.pool, tokenHash).catch((e: unknown) => Promise.reject(translate(e)));
  }
}

const shellQuote = (text: string): string => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`);
