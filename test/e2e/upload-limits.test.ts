import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PublicServer, type TestUser, startParley } from './harness.js';

/** `uploadRateLimit`, through the public API (`createParley`) on a real server. */

const MAX_BYTES = 4096;
let dataDir: string;
let s: PublicServer;
let alice: TestUser;
let bob: TestUser;

/** Every file under the server's uploads directory (temp files included). */
function filesOnDisk(): string[] {
  const root = join(dataDir, 'uploads');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

async function upload(user: TestUser | null, bytes: Buffer | string, name = 'note.txt') {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'text/plain' }), name);
  const r = await fetch(`${s.url}/messages/api/uploads/`, {
    method: 'POST',
    headers: user ? { authorization: `Token ${user.token}` } : {},
    body: form,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-upload-limits-'));
  s = await startParley({ dataDir, uploadRateLimit: { uploads: 2, perSeconds: 60 }, uploads: { maxBytes: MAX_BYTES } });
  [alice, bob] = await Promise.all([s.user('alice'), s.user('bob')]);
});

afterAll(async () => {
  await s?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('uploadRateLimit', () => {
  it('allows `uploads` per window per user, then answers 429 + Retry-After and stores nothing', async () => {
    expect((await upload(alice, 'one\n')).status).toBe(201);
    expect((await upload(alice, 'two\n')).status).toBe(201);
    const kept = filesOnDisk();

    const third = await upload(alice, 'three\n');
    expect(third.status).toBe(429);
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(third.body.detail).toMatch(/too fast/);
    // Refused before the body is read: an over-limit file too large to store is still a 429
    // (not 413), and nothing of either reached storage.
    expect((await upload(alice, Buffer.alloc(MAX_BYTES * 4, 97), 'big.txt')).status).toBe(429);
    expect(filesOnDisk()).toEqual(kept);

    // Each user has their own budget; sending messages is not counted.
    expect((await upload(bob, 'bob\n')).status).toBe(201);
    const chat = await alice.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [bob.id] });
    expect((await alice.client.post(`/messages/api/chats/${chat.body.id}/messages/`, { content: 'still talking' })).status).toBe(201);
    // Anonymous requests are still 401, and count against no one.
    expect((await upload(null, 'anon\n')).status).toBe(401);
  });

  it('refuses a bad uploadRateLimit at start', async () => {
    const err = await startParley({ uploadRateLimit: { uploads: 0, perSeconds: 0 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ConfigError' });
    expect((err as { problems: string[] }).problems.join('\n')).toMatch(/uploadRateLimit/);
  });
});
