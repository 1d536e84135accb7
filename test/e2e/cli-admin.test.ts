import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PORTABLE_TABLES } from '../../src/core/index.js';
import { Client, type TestServer, type TestUser, startServer } from './harness.js';

/**
 * The admin commands against real databases: `parley export` from SQLite and `parley import`
 * into PostgreSQL, `parley backup` of a running server, users and tokens.
 */
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'parley-admin-'));
const sqliteUrl = `sqlite:${join(dir, 'source.sqlite3')}`;
const PG = process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `cli_${randomBytes(6).toString('hex')}`;
const pgUrl = `${PG}${PG.includes('?') ? '&' : '?'}schema=${schema}`;
const env = { ...process.env, PARLEY_DATA_DIR: dir, PARLEY_CONFIG: '', LOG_LEVEL: 'warn', DATABASE_URL: sqliteUrl, PARLEY_SECRET: 'cli-admin-test-secret' };

const parley = (args: string[], extra: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...env, ...extra }, maxBuffer: 64 * 1024 * 1024 });

const pgUp = await new pg.Client({ connectionString: PG }).connect().then(
  (c) => c.end().then(() => true),
  () => false,
);
if (!pgUp) console.warn(`[skipped] export into PostgreSQL: PostgreSQL not reachable at ${new URL(PG).host}`);

describe('parley admin commands', { timeout: 120_000 }, () => {
  let source: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let dmMessageId: number;

  beforeAll(async () => {
    source = await startServer({ databaseUrl: sqliteUrl });
    alice = await source.user('alice');
    bob = await source.user('bob');
    const sent = await alice.client.post(`/api/dm/send/${bob.id}/`, { content: 'moving house' });
    expect(sent.status).toBe(201);
    dmMessageId = sent.body.id;
    await bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'welcome' });
    expect((await bob.client.post(`/messages/api/messages/${dmMessageId}/reactions/`, { emoji: '👍' })).status).toBeLessThan(300);
    expect((await bob.client.get(`/api/dm/conversations/${alice.id}/`)).status).toBe(200); // reading marks read
  });

  afterAll(async () => {
    await source.close();
    if (pgUp) {
      const c = new pg.Client({ connectionString: PG });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => c.end());
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!pgUp && process.env.PARLEY_REQUIRE_POSTGRES !== '1')('export from SQLite, import into PostgreSQL: equal counts, and the DM with its reaction and receipts is there', async () => {
    const file = join(dir, 'export.jsonl');
    const exported = await parley(['export', file]);
    expect(exported.stderr).toMatch(/^Exported users 2, auth_tokens 2, conversations 1, members 2, messages 2, .*reactions 1/m);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ format: 'parley-export', version: 1 });
    const end = lines[lines.length - 1] as { end: boolean; counts: Record<string, number> };
    expect(end.end).toBe(true);

    const imported = await parley(['import', file, '--database-url', pgUrl]);
    expect(imported.stderr.trim()).toBe(exported.stderr.trim().replace(/^Exported/, 'Imported'));
    // A second import into the same database is refused rather than doubling anything.
    await expect(parley(['import', file, '--database-url', pgUrl])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/empty database/) });

    const target = await startServer({ databaseUrl: pgUrl });
    try {
      for (const table of PORTABLE_TABLES) expect(await target.app.store.countRows(table), table).toBe(end.counts[table]);
      // Passwords came along: bob signs in on the new store and reads his DM.
      const login = await target.anon.post('/auth/login', { username: 'bob', password: 'pw-bob-secret' });
      expect(login.status).toBe(200);
      const bobThere = new Client(target.url, login.body.token);
      const dm = await bobThere.get(`/api/dm/conversations/${alice.id}/`);
      expect(dm.status).toBe(200);
      expect(dm.text).toContain('moving house');
      expect(dm.text).toContain('welcome');
      expect((await target.app.store.listReactions([dmMessageId])).map((r) => r.emoji)).toEqual(['👍']);
      // The old tokens still work, and alice's message shows as read by bob.
      const aliceThere = new Client(target.url, alice.token);
      const mine = await aliceThere.get(`/api/dm/conversations/${bob.id}/`);
      expect(JSON.stringify(mine.body)).toMatch(/"content":"moving house"[^}]*|read_at/);
      const members = await target.app.store.listMembersOf([(await target.app.store.getMessage(dmMessageId))?.conversationId ?? 0]);
      expect(members.find((m) => m.userId === bob.id)?.lastReadSeq).toBeGreaterThanOrEqual(1);
      // New writes continue after the imported ids.
      const next = await bobThere.post(`/api/dm/send/${alice.id}/`, { content: 'settled in' });
      expect(next.status).toBe(201);
      expect(next.body.id).toBeGreaterThan(dmMessageId + 1);
    } finally {
      await target.close();
    }
  });

  it('backup copies the running server\'s database, and a server on the copy has the data', async () => {
    const file = join(dir, 'backup.sqlite3');
    const out = await parley(['backup', file]);
    expect(out.stdout).toMatch(/Backed up to .*backup\.sqlite3/);
    expect(existsSync(file)).toBe(true);
    const restored = await startServer({ databaseUrl: `sqlite:${file}` });
    try {
      const login = await restored.anon.post('/auth/login', { username: 'alice', password: 'pw-alice-secret' });
      expect(login.status).toBe(200);
      const dm = await new Client(restored.url, login.body.token).get(`/api/dm/conversations/${bob.id}/`);
      expect(dm.text).toContain('moving house');
    } finally {
      await restored.close();
    }
    const pgBackup = await parley(['backup', join(dir, 'pg.dump')], { DATABASE_URL: 'postgres://parley:secret@127.0.0.1:5433/chat?schema=team' });
    expect(pgBackup.stdout).toContain('PGPASSWORD=… pg_dump --format=custom --schema=team');
    expect(pgBackup.stdout).not.toContain('secret');
  });

  it('user list, token list and revoke, user deactivate', async () => {
    const users = await parley(['user', 'list']);
    expect(users.stdout).toMatch(/^ID\s+USERNAME\s+NAME\s+EMAIL\s+ACTIVE\s+CREATED/);
    expect(users.stdout).toMatch(/\balice\b.*\byes\b/);

    const tokens = await parley(['token', 'list', 'alice']);
    const id = /^(\S{12})\s+alice\s+/m.exec(tokens.stdout)?.[1];
    expect(id, tokens.stdout).toBeTruthy();
    expect((await alice.client.get('/auth/me')).status).toBe(200);
    expect((await parley(['token', 'revoke', id ?? ''])).stdout).toMatch(/Revoked 1 token\./);
    expect((await alice.client.get('/auth/me')).status).toBe(401);

    expect((await bob.client.get('/auth/me')).status).toBe(200);
    expect((await parley(['user', 'deactivate', 'bob'])).stdout).toMatch(/Deactivated bob \(id \d+\); revoked 1 token\./);
    expect((await bob.client.get('/auth/me')).status).toBe(401);
    expect((await source.anon.post('/auth/login', { username: 'bob', password: 'pw-bob-secret' })).status).toBeGreaterThanOrEqual(400);
    await expect(parley(['user', 'deactivate', 'nobody'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/No such user: nobody/) });
  });
});
