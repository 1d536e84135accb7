import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.js';
import { runStoreContract } from './store.contract.js';
import { expectBackfilled, seedLateJoiners } from './joined-seq-backfill.js';
import { expectReadMarksBackfilled, seedReadCursors } from './read-marks-backfill.js';

runStoreContract('sqlite (:memory:)', async () => {
  const store = openSqliteStore({ filename: ':memory:' });
  await store.migrate();
  return store;
});

describe('SQLite store on a file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('applies the migrations once and keeps data across close and reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
    dirs.push(dir);
    // A nested path: the store creates the missing directories.
    const filename = join(dir, 'nested', 'parley.db');
    const now = new Date(Date.UTC(2024, 0, 15, 9, 0, 0));

    const first = openSqliteStore({ filename });
    // Every migration runs once, in order, starting with the initial schema.
    const { applied } = await first.migrate();
    expect(applied[0]).toBe('0001_initial');
    expect(applied).toEqual([...new Set(applied)].sort());
    const alice = await first.createUser({ username: 'alice', displayName: 'Alice', email: 'a@example.com', passwordHash: 'h', now });
    const bob = await first.createUser({ username: 'bob', displayName: 'Bob', email: 'b@example.com', passwordHash: null, now });
    const c = await first.createConversation({
      kind: 'group',
      title: 'Persisted',
      objectKey: null,
      dmKey: null,
      isPublic: false,
      createdBy: alice.id,
      members: [
        { userId: alice.id, role: 'admin' },
        { userId: bob.id, role: 'member' },
      ],
      now,
    });
    const { message } = await first.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'survives restarts', parentId: null, clientId: 'k', now });
    const lastEvent = await first.appendEvent({ conversationId: c.id, type: 'message.created', payload: '{}', recipients: null, now });
    await first.pruneEvents(new Date(now.getTime() + 1));
    await first.close();

    const second = openSqliteStore({ filename });
    try {
      expect(await second.migrate()).toEqual({ applied: [] });
      expect(await second.getUserByUsername('ALICE')).toEqual({ ...alice, passwordHash: 'h' });
      expect(await second.getConversation(c.id)).toEqual({ ...c, lastSeq: 1 });
      expect(await second.getMessage(message.id)).toEqual(message);
      expect(await second.countUnread(bob.id)).toEqual(new Map([[c.id, 1]]));
      const hits = await second.searchMessages(bob.id, [{ words: ['restarts'], prefix: false }], 10);
      expect(hits.map((h) => h.message.id)).toEqual([message.id]);
      // The event log goes on from where it was, even though it was pruned empty.
      expect(await second.eventLogBounds()).toEqual({ oldest: 0, newest: lastEvent.id });
      expect((await second.appendEvent({ conversationId: c.id, type: 'x', payload: '{}', recipients: null, now })).id).toBeGreaterThan(lastEvent.id);
      // The clientId index survived too.
      const retry = await second.insertMessage({ conversationId: c.id, senderId: alice.id, content: 'again', parentId: null, clientId: 'k', now });
      expect(retry).toEqual({ message, created: false });
    } finally {
      await second.close();
    }
  });

  it('0008_member_joined_seq backfills joinedSeq of existing members from their join time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
    dirs.push(dir);
    const filename = join(dir, 'parley.db');
    const first = openSqliteStore({ filename });
    await first.migrate();
    const seeded = await seedLateJoiners(first);
    await first.close();
    // As a database from before the migration: no column, no record of it.
    const raw = new Database(filename);
    raw.exec("ALTER TABLE members DROP COLUMN joined_seq; DELETE FROM schema_migrations WHERE id = '0008_member_joined_seq'");
    raw.close();

    const second = openSqliteStore({ filename });
    try {
      expect(await second.migrate()).toEqual({ applied: ['0008_member_joined_seq'] });
      await expectBackfilled(second, seeded);
    } finally {
      await second.close();
    }
  });

  it('close is safe to call twice', async () => {
    const store = openSqliteStore({ filename: ':memory:' });
    await store.migrate();
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
  });
});

describe('SQLite migration 0009_read_marks', () => {
  it("starts every member's read marks at what their read cursor says they read", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
    try {
      const filename = join(dir, 'parley.db');
      const first = openSqliteStore({ filename });
      await first.migrate();
      const seeded = await seedReadCursors(first);
      await first.close();
      // As a database from before the migration: no table, no record of it.
      const raw = new Database(filename);
      raw.exec("DROP TABLE read_marks; DELETE FROM schema_migrations WHERE id = '0009_read_marks'");
      raw.close();
      const second = openSqliteStore({ filename });
      try {
        expect(await second.migrate()).toEqual({ applied: ['0009_read_marks'] });
        await expectReadMarksBackfilled(second, seeded);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
