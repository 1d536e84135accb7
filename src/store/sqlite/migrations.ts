/**
 * SQLite schema, as an append-only list of migrations. Never edit a migration that has
 * shipped: add a new one. Times are stored as integer milliseconds since the epoch.
 */
export interface Migration {
  id: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    id: '0001_initial',
    sql: `
CREATE TABLE users (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  username       TEXT NOT NULL,
  username_lower TEXT NOT NULL UNIQUE,
  display_name   TEXT NOT NULL,
  email          TEXT NOT NULL DEFAULT '',
  avatar_url     TEXT,
  password_hash  TEXT,
  is_active      INTEGER NOT NULL DEFAULT 1,
  created_at     INTEGER NOT NULL
);

CREATE TABLE auth_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL CHECK (kind IN ('api', 'session')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE INDEX auth_tokens_user ON auth_tokens(user_id);

CREATE TABLE conversations (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  kind             TEXT NOT NULL CHECK (kind IN ('dm', 'group', 'channel', 'room')),
  title            TEXT,
  object_key       TEXT UNIQUE,
  dm_key           TEXT UNIQUE,
  is_public        INTEGER NOT NULL DEFAULT 0,
  created_by       INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  last_activity_at INTEGER NOT NULL,
  last_seq         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE members (
  conversation_id    INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role               TEXT NOT NULL CHECK (role IN ('admin', 'moderator', 'member')),
  joined_at          INTEGER NOT NULL,
  last_read_seq      INTEGER NOT NULL DEFAULT 0,
  read_at            INTEGER,
  last_delivered_seq INTEGER NOT NULL DEFAULT 0,
  delivered_at       INTEGER,
  PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id, conversation_id);

CREATE TABLE messages (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  sender_id       INTEGER NOT NULL REFERENCES users(id),
  content         TEXT NOT NULL,
  parent_id       INTEGER REFERENCES messages(id) ON DELETE SET NULL,
  client_id       TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  edited_at       INTEGER,
  deleted_at      INTEGER,
  UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages(conversation_id, sender_id, client_id)
  WHERE client_id IS NOT NULL;

CREATE TABLE message_hides (
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  hidden_at  INTEGER NOT NULL,
  PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;

CREATE TABLE reactions (
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  emoji      TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, user_id, emoji)
) WITHOUT ROWID;

-- Full-text index over message content, kept in step by triggers. Soft-deleted messages stay
-- indexed but are filtered out at query time.
CREATE VIRTUAL TABLE messages_fts USING fts5(
  content,
  content = 'messages',
  content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
`,
  },
  {
    id: '0002_event_log',
    sql: `
-- The event log clients resume from. AUTOINCREMENT so ids are never reused after pruning.
CREATE TABLE events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id INTEGER,
  type            TEXT NOT NULL,
  payload         TEXT NOT NULL,
  targeted        INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL
);
CREATE INDEX events_conversation ON events(conversation_id, id);
CREATE INDEX events_created ON events(created_at);

CREATE TABLE event_recipients (
  event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  user_id  INTEGER NOT NULL,
  PRIMARY KEY (user_id, event_id)
) WITHOUT ROWID;

ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
`,
  },
  {
    id: '0003_external_users',
    sql: `
-- Users a host application supplies (its \`authenticate\` hook, a JWT, its user directory) are
-- found again by the host's own id. NULL for built-in accounts; NULLs never collide.
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_external_id ON users(external_id);
`,
  },
  {
    id: '0004_webhook_outbox',
    sql: `
-- Webhook deliveries, written when an event happens and sent by the worker (src/webhooks), so
-- none is lost across restarts. next_attempt_at doubles as the lease of a claimed delivery.
CREATE TABLE webhook_deliveries (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_url     TEXT NOT NULL,
  event_id         TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  payload          TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  last_status_code INTEGER,
  last_error       TEXT,
  created_at       INTEGER NOT NULL,
  delivered_at     INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
`,
  },
  {
    id: '0005_blocks_mutes',
    sql: `
-- A user blocking another: the blocked user cannot message the blocker directly, and the
-- blocker no longer sees the blocked user's messages anywhere.
CREATE TABLE user_blocks (
  blocker_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  blocked_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX user_blocks_blocked ON user_blocks(blocked_id, blocker_id);

-- A member muting a conversation (no notifications); muted_until NULL = until unmuted.
CREATE TABLE conversation_mutes (
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  muted_until     INTEGER,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (user_id, conversation_id)
) WITHOUT ROWID;
`,
  },
  {
    id: '0006_metadata',
    sql: `
-- Host-defined data on messages and conversations (\`metadataSchema\`), as a JSON object.
ALTER TABLE messages ADD COLUMN metadata TEXT;
ALTER TABLE conversations ADD COLUMN metadata TEXT;
`,
  },
  {
    id: '0007_attachments',
    sql: `
-- Uploads and media by URL. message_id is null until a message is sent with it; the sweep
-- removes old unattached rows (and their files).
CREATE TABLE attachments (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  uploader_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  message_id    INTEGER REFERENCES messages(id) ON DELETE CASCADE,
  storage_key   TEXT,
  thumbnail_key TEXT,
  name          TEXT NOT NULL,
  size          INTEGER NOT NULL,
  mime_type     TEXT NOT NULL,
  media_type    TEXT NOT NULL CHECK (media_type IN ('image', 'video', 'audio', 'file')),
  width         INTEGER,
  height        INTEGER,
  external_url  TEXT,
  metadata      TEXT,
  created_at    INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id);
CREATE INDEX attachments_unattached ON attachments(created_at) WHERE message_id IS NULL;

ALTER TABLE messages ADD COLUMN forwarded_from_id INTEGER REFERENCES messages(id) ON DELETE SET NULL;
`,
  },
  {
    id: '0008_member_joined_seq',
    sql: `
-- The conversation's last_seq when the member joined. Messages up to it were sent before they
-- were a member: they never count as read or delivered by them, though their cursors start
-- there. Existing members: the newest message sent before they joined, never past a cursor.
ALTER TABLE members ADD COLUMN joined_seq INTEGER NOT NULL DEFAULT 0;
-- First members joined with the conversation (0 is right); the others look up the newest
-- message before their join through a throwaway index, not a scan per member.
CREATE INDEX messages_joined_seq_backfill ON messages(conversation_id, created_at, seq);
UPDATE members SET joined_seq = min(last_read_seq, last_delivered_seq, coalesce(
  (SELECT m.seq FROM messages m WHERE m.conversation_id = members.conversation_id AND m.created_at < members.joined_at
   ORDER BY m.created_at DESC, m.seq DESC LIMIT 1), 0))
WHERE joined_at > (SELECT c.created_at FROM conversations c WHERE c.id = members.conversation_id);
DROP INDEX messages_joined_seq_backfill;
`,
  },
  {
    id: '0009_read_marks',
    sql: `
-- Per-message read state (drf-directmessages' read_at): ranges of a member's messages read
-- together, (from_seq, upto_seq] at read_at. Only reading adds a range; sending moves the
-- members' read cursor alone. Existing members start with what their cursor says they read.
CREATE TABLE read_marks (
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  from_seq        INTEGER NOT NULL,
  upto_seq        INTEGER NOT NULL,
  read_at         INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, user_id, upto_seq)
) WITHOUT ROWID;
INSERT INTO read_marks (conversation_id, user_id, from_seq, upto_seq, read_at)
SELECT conversation_id, user_id, joined_seq, last_read_seq, coalesce(read_at, joined_at)
FROM members WHERE last_read_seq > joined_seq;
`,
  },
];
