/**
 * PostgreSQL schema, as an append-only list of migrations. Never edit a migration that has
 * shipped: add a new one. Ids match the SQLite migrations that mean the same thing.
 * Times are `timestamptz`; ids are identity columns, so an id is never handed out twice.
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
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text NOT NULL,
  display_name  text NOT NULL,
  email         text NOT NULL DEFAULT '',
  avatar_url    text,
  password_hash text,
  is_active     boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL
);
-- Usernames are unique whatever their case; lookups use the same expression.
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));

CREATE TABLE auth_tokens (
  token_hash text PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('api', 'session')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

CREATE TABLE conversations (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('dm', 'group', 'channel', 'room')),
  title            text,
  object_key       text UNIQUE,
  dm_key           text UNIQUE,
  is_public        boolean NOT NULL DEFAULT false,
  created_by       bigint REFERENCES users(id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  last_activity_at timestamptz NOT NULL,
  last_seq         bigint NOT NULL DEFAULT 0
);
CREATE INDEX conversations_activity ON conversations (last_activity_at DESC, id DESC);

CREATE TABLE members (
  conversation_id    bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id            bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role               text NOT NULL CHECK (role IN ('admin', 'moderator', 'member')),
  joined_at          timestamptz NOT NULL,
  last_read_seq      bigint NOT NULL DEFAULT 0,
  read_at            timestamptz,
  last_delivered_seq bigint NOT NULL DEFAULT 0,
  delivered_at       timestamptz,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_user ON members (user_id, conversation_id);

-- search_vector: the default text-search parser reads "<...>" as HTML tags and drops them with
-- what they enclose; chat text is not HTML, so angle brackets become private-use characters
-- (word separators) first. The store's snippet query applies the same translate().
CREATE TABLE messages (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq             bigint NOT NULL,
  sender_id       bigint NOT NULL REFERENCES users(id),
  content         text NOT NULL,
  parent_id       bigint REFERENCES messages(id) ON DELETE SET NULL,
  client_id       text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  edited_at       timestamptz,
  deleted_at      timestamptz,
  search_vector   tsvector GENERATED ALWAYS AS
                    (to_tsvector('simple'::regconfig, translate(content, '<>', E'\\uE002\\uE003'))) STORED,
  UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, sender_id, client_id)
  WHERE client_id IS NOT NULL;
CREATE INDEX messages_parent ON messages (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX messages_search ON messages USING gin (search_vector);

CREATE TABLE message_hides (
  message_id bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  hidden_at  timestamptz NOT NULL,
  PRIMARY KEY (user_id, message_id)
);
CREATE INDEX message_hides_message ON message_hides (message_id);

CREATE TABLE reactions (
  message_id bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  emoji      text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (message_id, user_id, emoji)
);
`,
  },
  {
    id: '0002_event_log',
    sql: `
-- The event log clients resume from. An identity column: ids are never reused after pruning,
-- and the sequence remembers the last id issued when the table is empty.
CREATE TABLE events (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_id bigint,
  type            text NOT NULL,
  payload         text NOT NULL,
  targeted        boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL
);
CREATE INDEX events_conversation ON events (conversation_id, id);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE event_recipients (
  event_id bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  user_id  bigint NOT NULL,
  PRIMARY KEY (user_id, event_id)
);
CREATE INDEX event_recipients_event ON event_recipients (event_id);

ALTER TABLE users ADD COLUMN last_seen_at timestamptz;
`,
  },
  {
    id: '0003_external_users',
    sql: `
-- Users a host application supplies (its \`authenticate\` hook, a JWT, its user directory) are
-- found again by the host's own id. NULL for built-in accounts; NULLs never collide.
ALTER TABLE users ADD COLUMN external_id text;
CREATE UNIQUE INDEX users_external_id ON users (external_id);
`,
  },
  {
    id: '0004_webhook_outbox',
    sql: `
-- Webhook deliveries, written when an event happens and sent by the worker (src/webhooks), so
-- none is lost across restarts. next_attempt_at doubles as the lease of a claimed delivery.
CREATE TABLE webhook_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  endpoint_url     text NOT NULL,
  event_id         text NOT NULL,
  event_type       text NOT NULL,
  payload          text NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL,
  delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
`,
  },
  {
    id: '0005_blocks_mutes',
    sql: `
-- A user blocking another: the blocked user cannot message the blocker directly, and the
-- blocker no longer sees the blocked user's messages anywhere.
CREATE TABLE user_blocks (
  blocker_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  blocked_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX user_blocks_blocked ON user_blocks (blocked_id, blocker_id);

-- A member muting a conversation (no notifications); muted_until NULL = until unmuted.
CREATE TABLE conversation_mutes (
  conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  muted_until     timestamptz,
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX conversation_mutes_conversation ON conversation_mutes (conversation_id);
`,
  },
  {
    id: '0006_metadata',
    sql: `
-- Host-defined data on messages and conversations (\`metadataSchema\`), as a JSON object.
ALTER TABLE messages ADD COLUMN metadata jsonb;
ALTER TABLE conversations ADD COLUMN metadata jsonb;
`,
  },
  {
    id: '0007_attachments',
    sql: `
-- Uploads and media by URL. message_id is null until a message is sent with it; the sweep
-- removes old unattached rows (and their files).
CREATE TABLE attachments (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uploader_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  message_id    bigint REFERENCES messages(id) ON DELETE CASCADE,
  storage_key   text,
  thumbnail_key text,
  name          text NOT NULL,
  size          bigint NOT NULL,
  mime_type     text NOT NULL,
  media_type    text NOT NULL CHECK (media_type IN ('image', 'video', 'audio', 'file')),
  width         integer,
  height        integer,
  external_url  text,
  metadata      jsonb,
  created_at    timestamptz NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_unattached ON attachments (created_at) WHERE message_id IS NULL;

ALTER TABLE messages ADD COLUMN forwarded_from_id bigint REFERENCES messages(id) ON DELETE SET NULL;
`,
  },
  {
    id: '0008_member_joined_seq',
    sql: `
-- The conversation's last_seq when the member joined. Messages up to it were sent before they
-- were a member: they never count as read or delivered by them, though their cursors start
-- there. Existing members: the newest message sent before they joined, never past a cursor.
ALTER TABLE members ADD COLUMN joined_seq bigint NOT NULL DEFAULT 0;
-- First members joined with the conversation (0 is right); the others look up the newest
-- message before their join through a throwaway index, not a scan per member.
CREATE INDEX messages_joined_seq_backfill ON messages (conversation_id, created_at, seq);
UPDATE members mb SET joined_seq = least(mb.last_read_seq, mb.last_delivered_seq, coalesce(
  (SELECT m.seq FROM messages m WHERE m.conversation_id = mb.conversation_id AND m.created_at < mb.joined_at
   ORDER BY m.created_at DESC, m.seq DESC LIMIT 1), 0))
FROM conversations c
WHERE c.id = mb.conversation_id AND mb.joined_at > c.created_at;
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
  conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  from_seq        bigint NOT NULL,
  upto_seq        bigint NOT NULL,
  read_at         timestamptz NOT NULL,
  PRIMARY KEY (conversation_id, user_id, upto_seq)
);
INSERT INTO read_marks (conversation_id, user_id, from_seq, upto_seq, read_at)
SELECT conversation_id, user_id, joined_seq, last_read_seq, coalesce(read_at, joined_at)
FROM members WHERE last_read_seq > joined_seq;
`,
  },
];
